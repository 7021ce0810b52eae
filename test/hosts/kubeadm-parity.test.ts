// Parity with kubeadm's own preflight: the real kubeadm (v1.33, built for the control plane) runs
// `kubeadm init phase preflight` / `kubeadm join phase preflight` inside test hosts laid out as the install
// guides leave them (real kubelet, containerd, chronyd), each with one fault injected. Every [WARNING X] /
// [ERROR X] it prints must be reported by kubecheck's preflight on the same host, non-passing, under the
// check that judges that reason. A kubeadm check this table does not know fails the test: when kubeadm is
// upgraded and grows a check, kubecheck must grow one too.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createFleet, destroyFleet, listen, onHost, setFile, setHostname, setSwaps, setSysctl, writeInventory, type TestFleet, type TestHost,
} from '../../scripts/testhosts.js';
import { K8S_VERSION } from '../../scripts/controlplane.js';
import type { RunResult } from '../../src/core/types.js';
import { kubecheckWith } from '../helpers.js';

/** kubeadm's check name (what it prints in brackets) → the kubecheck check that judges the same reason. */
const KUBEADM_TO_KUBECHECK: [RegExp, string][] = [
  [/^NumCPU$|^Mem$/, 'node.resources'],
  [/^Firewalld$/, 'node.firewall'],
  [/^Port-\d+$/, 'node.ports'],
  [/^FileAvailable--etc-kubernetes-(manifests-.*|kubelet\.conf|bootstrap-kubelet\.conf|pki-ca\.crt)$/, 'node.leftovers'],
  [/^DirAvailable--var-lib-etcd$/, 'node.leftovers'],
  [/^HTTPProxy$|^HTTPProxyCIDR$/, 'node.proxy'],
  [/^FileContent--proc-sys-net-ipv4-ip_forward$/, 'node.sysctl'],
  [/^FileContent--proc-sys-net-bridge-bridge-nf-call-iptables$/, 'node.sysctl'],
  [/^Swap$/, 'node.swap'],
  [/^FileExisting-.+$/, 'node.binaries'],
  [/^SystemVerification$/, 'node.system'],
  [/^Hostname$/, 'node.hostname'],
  [/^KubeletVersion$|^Service-Kubelet$/, 'node.kubelet'],
  [/^CRI$|^ContainerRuntimeVersion$/, 'node.runtime'],
  [/^ImagePull$/, 'node.registry'],
];

const checkFor = (name: string) => KUBEADM_TO_KUBECHECK.find(([re]) => re.test(name))?.[1];

/** What kubeadm printed: its check names with their text, per host. */
function parseKubeadm(output: string): { name: string; level: string; text: string }[] {
  return [...output.matchAll(/\[(WARNING|ERROR) ([^\]]+)\]: ?(.*)/g)].map((m) => ({ level: m[1], name: m[2], text: m[3] }));
}

let fleet: TestFleet;
const byName = new Map<string, TestHost>();
// One host per fault (name → role, fault). cp-ok and w-ok carry none (this machine's cgroup v1 only).
const HOSTS: { name: string; role: 'control-plane' | 'worker'; fault?: (h: TestHost) => Promise<void> | void }[] = [
  { name: 'cp-ok', role: 'control-plane' },
  { name: 'w-ok', role: 'worker' },
  { name: 'cp-swap', role: 'control-plane', fault: (h) => setSwaps(h, [{ device: '/dev/vdb2', sizeKiB: 2097148 }]) },
  { name: 'cp-port', role: 'control-plane', fault: (h) => listen(h, 'nginx', 'TCP-LISTEN:6443') },
  { name: 'w-port', role: 'worker', fault: (h) => listen(h, 'haproxy', 'TCP-LISTEN:10250') },
  { name: 'cp-forward', role: 'control-plane', fault: (h) => setSysctl(h, 'net.ipv4.ip_forward', '0') },
  { name: 'w-nokubelet', role: 'worker', fault: async (h) => { await onHost(h, 'rm -f /usr/local/bin/kubelet'); } },
  { name: 'w-disabled', role: 'worker', fault: async (h) => { await onHost(h, 'rm -f /etc/systemd/system/multi-user.target.wants/kubelet.service'); } },
  // A required executable that is there but not executable: for kubeadm's LookPath and the shell's alike, absent.
  { name: 'cp-losetup', role: 'control-plane', fault: (h) => { setFile(h, 'no-losetup', ''); return onHost(h, `mount --bind ${join(h.dir, 'no-losetup')} /usr/sbin/losetup`).then(() => undefined); } },
  {
    name: 'cp-leftover', role: 'control-plane', fault: (h) => {
      setFile(h, 'etc-kubernetes/manifests/kube-apiserver.yaml', 'apiVersion: v1\nkind: Pod\n');
      setFile(h, 'var-lib-etcd/member/snap/db', 'x');
    },
  },
  { name: 'w-joined', role: 'worker', fault: (h) => { setFile(h, 'etc-kubernetes/kubelet.conf', 'apiVersion: v1\nkind: Config\n'); setFile(h, 'etc-kubernetes/pki/ca.crt', 'x'); } },
  { name: 'w-renamed', role: 'worker', fault: (h) => setHostname(h, 'renamed-node') },
  // The pids controller disabled (as a kernel booted with cgroup_disable=pids shows it in /proc/cgroups).
  {
    name: 'w-nopids', role: 'worker', fault: async (h) => {
      const cgroups = (await onHost(h, 'cat /proc/cgroups')).stdout.replace(/^pids\t(\d+)\t(\d+)\t1$/m, 'pids\t$1\t$2\t0');
      setFile(h, 'proc-cgroups', cgroups);
      await onHost(h, `mount --bind ${join(h.dir, 'proc-cgroups')} /proc/cgroups`);
    },
  },
  {
    name: 'cp-proxy', role: 'control-plane', fault: async (h) => {
      setFile(h, 'environment', 'HTTPS_PROXY=http://proxy.corp.example:3128\nNO_PROXY=localhost,127.0.0.1\n');
      await onHost(h, `mount --bind ${join(h.dir, 'environment')} /etc/environment`);
    },
  },
];

const kubeadmOutput = new Map<string, string>();
let report: RunResult;

function initConfig(h: TestHost): string {
  return `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint: {advertiseAddress: ${h.ip}, bindPort: 6443}
nodeRegistration: {criSocket: unix:///run/containerd/containerd.sock}
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: ${K8S_VERSION}
networking: {podSubnet: 10.244.0.0/16, serviceSubnet: 10.96.0.0/12}
`;
}

function joinConfig(h: TestHost): string {
  // Discovery is not part of a worker's preflight; it points where nothing answers, with a short timeout.
  return `apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
discovery:
  bootstrapToken: {apiServerEndpoint: "${fleet.deadAddress}:6443", token: abcdef.0123456789abcdef, unsafeSkipCAVerification: true}
timeouts: {discovery: 5s}
nodeRegistration: {criSocket: unix:///run/containerd/containerd.sock}
`;
}

beforeAll(async () => {
  fleet = await createFleet(HOSTS.length, { preinstalled: true });
  HOSTS.forEach((spec, i) => byName.set(spec.name, fleet.hosts[i]));
  for (const spec of HOSTS) await spec.fault?.(byName.get(spec.name)!);
  // kubeadm as an operator runs it on each host: a login shell's environment (/etc/environment) included.
  await Promise.all(HOSTS.map(async (spec) => {
    const h = byName.get(spec.name)!;
    const cfg = join(h.dir, 'kubeadm.yaml');
    writeFileSync(cfg, spec.role === 'control-plane' ? initConfig(h) : joinConfig(h));
    const phase = spec.role === 'control-plane' ? `init phase preflight --dry-run --config ${cfg}` : `join phase preflight --config ${cfg}`;
    const out = await onHost(h, `set -a; [ -r /etc/environment ] && . /etc/environment; set +a; timeout 60 kubeadm ${phase} --ignore-preflight-errors=all 2>&1; true`);
    kubeadmOutput.set(spec.name, out.stdout);
  }));
  const inventory = writeInventory(fleet, 'parity.yaml', (h) => (HOSTS[h.index - 1].role === 'control-plane' ? 'control-plane, etcd' : 'worker'));
  // The inventory names hosts h1..hN; the table above names them by fault.
  const run = await kubecheckWith({ env: { SSH_AUTH_SOCK: '' }, timeoutMs: 120_000 }, 'preflight', '-i', inventory, '-o', 'json');
  report = JSON.parse(run.stdout) as RunResult;
}, 300_000);

afterAll(async () => {
  await destroyFleet();
});

describe('kubeadm preflight parity on real test hosts', () => {
  it('kubeadm ran on every host and printed its checks', () => {
    for (const spec of HOSTS) expect(kubeadmOutput.get(spec.name), spec.name).toContain('[preflight] Running pre-flight checks');
  });

  it('knows every check kubeadm reports (a new kubeadm check fails here until kubecheck judges it)', () => {
    const unknown = HOSTS.flatMap((spec) => parseKubeadm(kubeadmOutput.get(spec.name)!).filter((w) => !checkFor(w.name)).map((w) => `${spec.name}: [${w.level} ${w.name}] ${w.text}`));
    expect(unknown).toEqual([]);
  });

  it('reports every reason kubeadm stops or warns, on the same host, under the check that judges it', () => {
    const missed: string[] = [];
    for (const spec of HOSTS) {
      const h = byName.get(spec.name)!;
      for (const w of parseKubeadm(kubeadmOutput.get(spec.name)!)) {
        const id = checkFor(w.name)!;
        const r = report.results.find((x) => x.check === id && x.target === h.name);
        if (!r || r.status === 'pass') missed.push(`${spec.name} (${h.name}): kubeadm [${w.level} ${w.name}] ${w.text} — kubecheck ${id}: ${r ? `${r.status} ${r.message}` : 'no result'}`);
      }
    }
    expect(missed).toEqual([]);
    // Where kubeadm's reason is not the cgroup v1 warning every host here gets, kubecheck's is not either.
    const nopids = report.results.find((r) => r.check === 'node.system' && r.target === byName.get('w-nopids')!.name);
    expect(nopids).toMatchObject({ status: 'fail', code: 'node.system/cgroups-missing', message: expect.stringContaining('pids') });
  });

  it('sees each injected fault through kubeadm too (the faults are real to kubeadm, not only to kubecheck)', () => {
    const names = (host: string) => parseKubeadm(kubeadmOutput.get(host)!).map((w) => w.name);
    expect(names('cp-swap')).toContain('Swap');
    expect(names('cp-port')).toContain('Port-6443');
    expect(names('w-port')).toContain('Port-10250');
    expect(names('cp-forward')).toContain('FileContent--proc-sys-net-ipv4-ip_forward');
    expect(names('w-nokubelet')).toContain('KubeletVersion');
    expect(names('w-disabled')).toContain('Service-Kubelet');
    expect(names('cp-losetup')).toContain('FileExisting-losetup');
    expect(names('cp-leftover')).toEqual(expect.arrayContaining(['FileAvailable--etc-kubernetes-manifests-kube-apiserver.yaml', 'DirAvailable--var-lib-etcd']));
    expect(names('w-joined')).toEqual(expect.arrayContaining(['FileAvailable--etc-kubernetes-kubelet.conf', 'FileAvailable--etc-kubernetes-pki-ca.crt']));
    expect(names('w-renamed')).toContain('Hostname');
    expect(names('cp-proxy')).toContain('HTTPProxy');
    expect(kubeadmOutput.get('w-nopids')).toMatch(/CGROUPS_PIDS: missing|missing required cgroups: pids/);
    // On a host without a fault kubeadm has only this machine's cgroup v1 to say.
    expect(names('cp-ok').filter((n) => n !== 'SystemVerification')).toEqual([]);
    expect(names('w-ok').filter((n) => n !== 'SystemVerification')).toEqual([]);
  });

  it('passes, as kubeadm does, what is fine on the fault-free hosts (no false failure)', () => {
    for (const name of ['cp-ok', 'w-ok']) {
      const h = byName.get(name)!;
      // node.system: this machine's cgroup v1 (kubeadm warns too); fleet.node-ip: the renamed host's new name
      // resolves nowhere, which every other host rightly reports.
      const bad = report.results.filter((r) => r.target === h.name && r.status !== 'pass' && r.check !== 'node.system')
        .filter((r) => !(r.check === 'fleet.node-ip' && r.message.replace(/renamed-node \(h\d+\) does not resolve here( \([^)]*\))?(; )?/g, '') === ''));
      expect(bad.map((r) => `${r.check} ${r.status}: ${r.message}`), name).toEqual([]);
    }
  });
});
