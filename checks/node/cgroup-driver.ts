import type { NodeCheck } from '../../src/core/types.js';
import { fail, pass, skip } from '../../src/core/findings.js';
import { restartCommand } from './restart.js';

export const cgroupDriver: NodeCheck = {
  kind: 'node',
  id: 'node.cgroup-driver',
  title: 'The kubelet and the runtime use the same cgroup driver',
  area: 'node',
  codes: {
    mismatch: 'the kubelet and containerd use different cgroup drivers: every pod sandbox fails',
    'not-configured': 'the kubelet or containerd has no cgroup driver configured yet (nothing to compare)',
  },
  why:
    'The kubelet names pod cgroups for its cgroup driver and the runtime creates them with its own; when ' +
    'they differ, runc refuses every sandbox ("expected cgroupsPath to be of format \\"slice:prefix:name\\" ' +
    'for systemd cgroups"). Use systemd on hosts whose init is systemd (kubeadm\'s default since 1.22), ' +
    'cgroupfs elsewhere.',
  remediation: 'set the same driver in /var/lib/kubelet/config.yaml (cgroupDriver) and /etc/containerd/config.toml (SystemdCgroup), then restart containerd and the kubelet',
  run(facts) {
    const d = facts.cgroupDrivers;
    const evidence = { 'cgroup drivers': `kubelet: ${d.kubelet ?? 'not configured'}; containerd: ${d.containerd ?? 'not configured'}` };
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
