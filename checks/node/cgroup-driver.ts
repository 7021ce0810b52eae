import type { NodeFacts } from '../../src/core/facts.js';
import type { NodeCheck } from '../../src/core/types.js';
import { fail, pass, skip } from '../../src/core/findings.js';
import { restartCommand } from './restart.js';

/** Docker's cgroup driver when Docker is the node's runtime (cri-dockerd): daemon.json's exec-opts, else cgroupfs. */
function dockerDriver(facts: NodeFacts): string | undefined {
  const docker = facts.runtimesInstalled.includes('cri-dockerd') || facts.processes.some((p) => p.comm === 'cri-dockerd');
  if (!docker) return undefined;
  const opts = facts.runtimeConfig.dockerDaemon?.json?.['exec-opts'];
  const set = Array.isArray(opts) ? opts.map(String).find((o) => /^native\.cgroupdriver=/.test(o)) : undefined;
  return set ? set.split('=')[1] : 'cgroupfs';
}

export const cgroupDriver: NodeCheck = {
  kind: 'node',
  id: 'node.cgroup-driver',
  title: 'The kubelet and the runtime use the same cgroup driver',
  area: 'node',
  codes: {
    mismatch: 'the kubelet and containerd use different cgroup drivers: every pod sandbox fails',
    'will-mismatch': 'pre-install: the runtime\'s cgroup driver differs from the one kubeadm will give the kubelet (systemd unless configured)',
    'not-configured': 'the kubelet or containerd has no cgroup driver configured yet (nothing to compare)',
  },
  why:
    'The kubelet names pod cgroups for its cgroup driver and the runtime creates them with its own; when ' +
    'they differ, runc refuses every sandbox ("expected cgroupsPath to be of format \\"slice:prefix:name\\" ' +
    'for systemd cgroups"). Use systemd on hosts whose init is systemd (kubeadm\'s default since 1.22), ' +
    'cgroupfs elsewhere.',
  remediation: 'set the same driver in /var/lib/kubelet/config.yaml (cgroupDriver) and /etc/containerd/config.toml (SystemdCgroup), then restart containerd and the kubelet',
  params: {
    type: 'object',
    properties: { kubeletCgroupDriver: { enum: ['systemd', 'cgroupfs'], description: 'the driver kubeadm will give the kubelet (KubeletConfiguration cgroupDriver; default systemd)' } },
    additionalProperties: false,
  },
  run(facts, ctx) {
    const d = facts.cgroupDrivers;
    const evidence = { 'cgroup drivers': `kubelet: ${d.kubelet ?? 'not configured'}; containerd: ${d.containerd ?? 'not configured'}${dockerDriver(facts) ? `; docker: ${dockerDriver(facts)}` : ''}` };
    if (!d.kubelet && ctx.phase === 'pre') {
      // Before kubeadm writes /var/lib/kubelet/config.yaml: compare the runtime with what kubeadm will configure.
      const containerdFix = `set SystemdCgroup = ${ctx.params.kubeletCgroupDriver !== 'cgroupfs'} in /etc/containerd/config.toml ([plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]), then restart containerd`;
      // containerd without SystemdCgroup in its config runs runc with cgroupfs (its default), Debian's and Ubuntu's packaged config included.
      const containerdDefault = !d.containerd && !dockerDriver(facts) && (facts.runtimesInstalled.includes('containerd') || facts.processes.some((p) => p.comm === 'containerd'));
      const runtime = d.containerd ? { name: 'containerd', driver: d.containerd, fix: containerdFix }
        : dockerDriver(facts) ? { name: 'Docker', driver: dockerDriver(facts)!, fix: 'set "exec-opts": ["native.cgroupdriver=systemd"] in /etc/docker/daemon.json' }
        : containerdDefault ? { name: 'containerd (no SystemdCgroup in /etc/containerd/config.toml: its default)', driver: 'cgroupfs', fix: containerdFix } : undefined;
      const kubelet = ctx.params.kubeletCgroupDriver === 'cgroupfs' ? 'cgroupfs' : 'systemd';
      if (!runtime) return skip('nothing to compare yet: the runtime has no cgroup driver configured', { evidence, code: 'not-configured' });
      if (runtime.driver === kubelet) return pass(`${runtime.name} uses ${runtime.driver}, the driver kubeadm will give the kubelet`, { evidence });
      return fail(`${runtime.name} uses the ${runtime.driver} cgroup driver but kubeadm will configure the kubelet for ${kubelet}${ctx.params.kubeletCgroupDriver ? '' : ' (its default)'}`, {
        evidence, code: 'will-mismatch', remediation: `${runtime.fix}   # or give kubeadm a KubeletConfiguration with cgroupDriver: ${runtime.driver}`,
      });
    }
    if (!d.kubelet || !d.containerd) {
      return skip(`nothing to compare yet: ${!d.kubelet ? 'no /var/lib/kubelet/config.yaml cgroupDriver' : 'no SystemdCgroup in /etc/containerd/config.toml'}`, { evidence, code: 'not-configured' });
    }
    if (d.kubelet === d.containerd) return pass(`both use ${d.kubelet}`, { evidence });
    const want = facts.init === 'systemd' ? 'systemd' : 'cgroupfs';
    const containerdLine = `SystemdCgroup = ${want === 'systemd'}`;
    const fix = [
      ...(d.containerd !== want ? [`set ${containerdLine} in /etc/containerd/config.toml ([plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options])`] : []),
      ...(d.kubelet !== want ? [`set cgroupDriver: ${want} in /var/lib/kubelet/config.yaml`] : []),
      restartCommand(facts, ...(d.containerd !== want ? ['containerd'] : []), ...(d.kubelet !== want ? ['kubelet'] : [])),
    ];
    return fail(`the kubelet uses the ${d.kubelet} cgroup driver, containerd ${d.containerd}${facts.init === 'systemd' ? '' : ' (this host has no systemd: use cgroupfs)'}`, {
      evidence,
      remediation: fix.join('\n'),
      code: 'mismatch',
    });
  },
};
