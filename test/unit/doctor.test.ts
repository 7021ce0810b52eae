import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHECKS } from '../../checks/index.js';
import { parseNodeFacts } from '../../src/collectors/node/index.js';
import { GENERIC_CODES } from '../../src/core/findings.js';
import type { NodeFacts } from '../../src/core/facts.js';
import { diagnose } from '../../src/doctor/diagnose.js';
import { type ClusterEvidence, type NodeEvidence, currentRun, linesMatching } from '../../src/doctor/evidence.js';
import { RULES } from '../../src/doctor/rules/index.js';
import { judgeEvidence } from '../../src/doctor/run.js';
import type { ClusterSnapshot, LeaseInfo, NodeInfo, TokenInfo } from '../../src/k8s/snapshot.js';
import { fixture, NOW, ROOT, withSections } from '../helpers.js';
import { recordedSnapshot } from './cluster-snapshot.js';

// A worker that is healthy after install: kubelet and containerd running, flannel in place.
const HEALTHY = withSections(fixture('collector/cp1-post-healthy.txt'), {
  clock: [(NOW.getTime() / 1000).toFixed(3), 0],
  certs: [fixture('collector/cp1-post-healthy.txt').split('@@kc:certs\n')[1].split('\n@@kc:rc=')[0].replace(/==> \/etc\/kubernetes\/pki\/apiserver\.crt[\s\S]*?(?===> \/etc\/kubernetes\/pki\/ca\.crt)/, ''), 0],
});
const facts = (replace: Record<string, [string, number]> = {}): NodeFacts =>
  parseNodeFacts(withSections(HEALTHY, replace), { sentAt: NOW.getTime() - 10, firstByteAt: NOW.getTime() + 10, endedAt: NOW.getTime() + 20 });
const lines = (file: string) => fixture(`doctor/${file}`).trim().split('\n').filter((l) => !l.startsWith('# '));

const NODE = 'w2';

function nodeInfo(ready: NodeInfo['conditions'][number], extra: NodeInfo['conditions'] = []): NodeInfo {
  return { name: NODE, labels: {}, annotations: {}, podCIDRs: ['10.244.3.0/24'], kubeletVersion: 'v1.33.13', conditions: [ready, ...extra], addresses: [{ type: 'InternalIP', address: '10.0.0.12' }], unschedulable: false };
}

const UNKNOWN = { type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastTransitionTime: '2026-06-01T08:02:00Z' };
const READY = { type: 'Ready', status: 'True' };

/** The cluster's view of w2 (NotReady, its lease last renewed 18 min ago, unless told otherwise). */
function clusterOf(over: { ready?: NodeInfo['conditions'][number]; conditions?: NodeInfo['conditions']; events?: string[]; leaseRenewTime?: string; tokens?: TokenInfo[] } = {}) {
  const node = nodeInfo(over.ready ?? UNKNOWN, over.conditions ?? []);
  const lease: LeaseInfo = { namespace: 'kube-node-lease', name: NODE, renewTime: over.leaseRenewTime ?? '2026-06-01T08:01:30Z', durationSeconds: 40 };
  const base = recordedSnapshot();
  const snapshot: ClusterSnapshot = {
    ...base,
    nodes: { ok: true, items: [node] },
    nodeLeases: { ok: true, items: [lease] },
    ...(over.tokens ? { tokens: { ok: true, items: over.tokens } } : {}),
  };
  const evidence: ClusterEvidence = { node, ready: node.conditions[0], leaseRenewTime: lease.renewTime, leaseDurationSeconds: 40, events: over.events ?? [], pods: [] };
  return { snapshot, evidence };
}

/** Evidence for w2 built the doctor's way: kubecheck's checks run on the host's facts and the cluster's view. */
function ev(input: { facts?: NodeFacts; log?: string[]; cluster?: ReturnType<typeof clusterOf>; hostProblem?: string }): NodeEvidence {
  const reached = input.facts ? [{ node: NODE, roles: ['worker'], facts: input.facts, podCIDRs: ['10.244.3.0/24'] }] : [];
  const results = judgeEvidence(CHECKS, reached, input.cluster?.snapshot, NOW).get(NODE) ?? [];
  return {
    node: NODE,
    now: NOW,
    results,
    ...(input.cluster ? { cluster: input.cluster.evidence } : {}),
    ...(input.facts ? { host: { init: input.facts.init, kubeletLog: currentRun(input.log ?? []), roles: ['worker'] } } : {}),
    ...(input.hostProblem ? { hostProblem: input.hostProblem } : {}),
  };
}
const top = (e: NodeEvidence) => diagnose(e)[0];
const readyCluster = (over: Parameters<typeof clusterOf>[0] = {}) => clusterOf({ ready: READY, leaseRenewTime: NOW.toISOString(), ...over });

describe('doctor rules, on kubecheck\'s own findings', () => {
  it('a healthy host is healthy', () => {
    expect(top(ev({ facts: facts() }))).toMatchObject({ cause: 'healthy', confidence: 'high' });
  });
  it('kubelet-down: no kubelet process, with the check\'s fix', () => {
    const d = top(ev({ facts: facts({ procs: ['780 containerd', 0], services: ['units kubelet containerd\ninactive\nactive', 0] }) }));
    expect(d).toMatchObject({ cause: 'kubelet-down', confidence: 'high', summary: 'the kubelet is not running on the host (systemd: inactive)', codes: ['node.kubelet/not-running'] });
    expect(d.fix[0]).toBe('systemctl restart kubelet');
  });
  it('runtime-down: the CRI socket is gone; the real kubelet lines are evidence', () => {
    const d = top(ev({ facts: facts({ crisock: ['installed containerd /usr/bin/containerd', 0], listen: ['tcp LISTEN 0 4096 *:10250 *:* users:(("kubelet",pid=812,fd=25))', 0] }), log: lines('real-kubelet-runtime-down.txt') }));
    expect(d).toMatchObject({ cause: 'runtime-down', confidence: 'high', codes: ['node.runtime/not-running'] });
    expect(d.summary).toBe('the container runtime is down: no CRI socket found: containerd is installed but not running');
    expect(d.evidence.join('\n')).toContain('dial unix /run/containerd/containerd.sock: connect: no such file or directory');
    expect(d.fix[0]).toBe('systemctl restart containerd');
  });
  it('runtime-down from cluster evidence alone is medium', () => {
    const c = clusterOf({ ready: { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'container runtime is down' }, leaseRenewTime: NOW.toISOString() });
    expect(top(ev({ cluster: c }))).toMatchObject({ cause: 'runtime-down', confidence: 'medium' });
  });
  it('swap-enabled outranks the kubelet it stopped; the real refusal is evidence', () => {
    const d = diagnose(ev({ facts: facts({ swaps: ['Filename Type Size Used Priority\n/swap.img file 2097148 0 -2', 0], procs: ['780 containerd', 0] }), log: lines('real-kubelet-swap.txt') }));
    expect(d.map((x) => x.cause)).toEqual(['swap-enabled', 'kubelet-down']);
    expect(d[0].summary).toBe('swap is on: /swap.img (2.0 GiB): the kubelet refuses to run');
    expect(d[0].evidence.join('\n')).toContain('failed to run Kubelet: running with swap on is not supported, please disable swap or set --fail-swap-on flag to false');
    expect(d[0].fix[0]).toBe('kubecheck fix swap --node w2 --apply   # or by hand:');
    expect(d[0].codes).toEqual(['node.swap/swap-on']);
  });
  it('swap-enabled does not follow a log from before: the host says swap is off now', () => {
    const d = diagnose(ev({ facts: facts(), log: [...lines('real-kubelet-swap.txt'), 'I1202 15:02:00.000000    999 server.go:530] "Kubelet version" kubeletVersion="v1.33.13"'] }));
    expect(d.map((x) => x.cause)).toEqual(['healthy']);
    // Even when the old lines are in the window, the host's swap check passing outranks them.
    const stale = ev({ facts: facts(), log: lines('real-kubelet-swap.txt') });
    expect(diagnose(stale).map((x) => x.cause)).not.toContain('swap-enabled');
  });
  it('cni-plugin-missing: any required plugin missing or not executable (not only flannel)', () => {
    expect(top(ev({ facts: facts({ cnibin: ['x bridge\nx host-local\nx loopback\nx portmap', 0] }), log: lines('kubelet-cni-plugin.txt') }))).toMatchObject({ cause: 'cni-plugin-missing', summary: 'missing in /opt/cni/bin: flannel (failed to find plugin "flannel" in path [/opt/cni/bin])', fix: ['kubecheck fix flannel-plugin --node w2 --from DIR_WITH_PLUGINS'] });
    expect(top(ev({ facts: facts({ cnibin: ['x flannel\nx bridge\nx loopback\nx portmap', 0] }) }))).toMatchObject({ cause: 'cni-plugin-missing', summary: 'missing in /opt/cni/bin: host-local' });
    expect(top(ev({ facts: facts({ cnibin: ['- flannel\nx bridge\nx host-local\nx loopback\nx portmap', 0] }) }))).toMatchObject({ cause: 'cni-plugin-missing', summary: 'not executable: /opt/cni/bin/flannel' });
    expect(top(ev({ cluster: readyCluster({ events: lines('kubelet-cni-plugin.txt') }) }))).toMatchObject({ cause: 'cni-plugin-missing', confidence: 'medium' });
  });
  it('cni-config-missing: an empty /etc/cni/net.d, a .json config counts, an unparsable one does not', () => {
    const d = top(ev({ facts: facts({ cninet: ['', 0] }), log: lines('real-kubelet-cni-config.txt') }));
    expect(d).toMatchObject({ cause: 'cni-config-missing', confidence: 'high', codes: ['cni.config/missing'] });
    expect(d.evidence.join('\n')).toContain('cni plugin not initialized');
    expect(top(ev({ facts: facts({ cninet: ['==> 10-flannel.conflist\n{"name":"cbr0","plugins":[', 0] }) }))).toMatchObject({ cause: 'cni-config-missing', codes: ['cni.config/unparsable'] });
    expect(top(ev({ facts: facts({ cninet: ['==> 10-flannel.json\n{"name":"cbr0","cniVersion":"0.3.1","plugins":[{"type":"flannel"}]}', 0] }) })).cause).toBe('healthy');
    // From the cluster alone: the condition the real kubelet sets.
    const c = clusterOf({ ready: { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized' }, leaseRenewTime: NOW.toISOString() });
    expect(top(ev({ cluster: c }))).toMatchObject({ cause: 'cni-config-missing', confidence: 'medium' });
  });
  it('flannel-subnet-missing: no subnet.env; or the sandbox events', () => {
    expect(top(ev({ facts: facts({ subnetenv: ['/run/flannel/subnet.env: No such file or directory', 1] }) }))).toMatchObject({ cause: 'flannel-subnet-missing', confidence: 'high', codes: ['cni.flannel-subnet/missing'] });
    expect(top(ev({ cluster: readyCluster({ events: lines('events-subnet.txt') }) }))).toMatchObject({ cause: 'flannel-subnet-missing', confidence: 'medium' });
  });
  it('cni0-ip-conflict: cni0 outside the flannel subnet, with the fix command', () => {
    const f = facts({ subnetenv: ['FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.3.1/24', 0] });
    const d = top(ev({ facts: f, cluster: readyCluster({ events: lines('events-cni0.txt') }) }));
    expect(d).toMatchObject({ cause: 'cni0-ip-conflict', confidence: 'high', summary: "cni0 has 10.244.0.1/24 but this node's flannel subnet is 10.244.3.1/24", fix: ['kubecheck fix cni0 --node w2 --apply'] });
    expect(d.evidence.join('\n')).toContain('already has an IP address different from 10.244.3.1/24');
  });
  it('certificate-expired: an expired apiserver or kubelet client certificate, with the real kubelet line', () => {
    const certs = fixture('collector/w1-pre-problems.txt').split('@@kc:certs\n')[1].split('\n@@kc:rc=')[0];
    const d = top(ev({ facts: facts({ certs: [certs, 0] }), log: lines('real-kubelet-cert-expired.txt') }));
    expect(d.cause).toBe('certificate-expired');
    expect(d.summary).toBe('/etc/kubernetes/pki/apiserver.crt expired on 2026-01-01; /var/lib/kubelet/pki/kubelet-client-current.pem expired on 2026-02-01');
    expect(d.codes).toEqual(['node.certificates/expired', 'node.certificates/kubelet-client-expired']);
    expect(d.evidence.join('\n')).toContain('part of the existing bootstrap client certificate in /etc/kubernetes/kubelet.conf is expired');
  });
  it('clock-skew: the fleet check\'s verdict (its median and limit), not a second rule of its own', () => {
    const f = facts({ clock: [((NOW.getTime() + 95_000) / 1000).toFixed(3), 0] });
    expect(top(ev({ facts: f }))).toMatchObject({ cause: 'clock-skew', summary: 'clock is 95.0 s ahead of this client (limit 2.0 s)', codes: ['fleet.clock-skew/skewed'] });
  });
  it('disk-pressure and memory-pressure from cluster.nodes\' findings', () => {
    const c = readyCluster({ conditions: [{ type: 'DiskPressure', status: 'True', message: 'kubelet has disk pressure' }, { type: 'MemoryPressure', status: 'True', message: 'kubelet has insufficient memory available' }] });
    const d = diagnose(ev({ cluster: c }));
    expect(d.map((x) => x.cause)).toEqual(['disk-pressure', 'memory-pressure']);
    expect(d[0].fix[0]).toBe('df -h /var/lib/kubelet /var/lib/containerd');
  });
  it('ip-forward-disabled and bridge-nf-disabled: the fix is node.sysctl\'s (appends to k8s.conf, keeps the other lines)', () => {
    const d = diagnose(ev({ facts: facts({ sysctls: ['net/ipv4/ip_forward=0\nnet/bridge/bridge-nf-call-iptables=<missing>', 0] }) }));
    expect(d.map((x) => x.cause)).toEqual(['ip-forward-disabled', 'bridge-nf-disabled']);
    expect(d[0].fix.join('\n')).toContain(">> /etc/sysctl.d/k8s.conf");
    expect(d[0].fix.join('\n')).not.toMatch(/[^>]> \/etc\/sysctl\.d\/k8s\.conf/);
  });
  it('cgroup-driver-mismatch from node.cgroup-driver, with the real runc refusal as evidence', () => {
    const d = top(ev({ facts: facts({ cgroups: ['/var/lib/kubelet/config.yaml:cgroupDriver: cgroupfs\n/etc/containerd/config.toml:            SystemdCgroup = true', 0] }), log: lines('real-kubelet-cgroup.txt') }));
    expect(d).toMatchObject({ cause: 'cgroup-driver-mismatch', confidence: 'high', summary: 'the kubelet uses the cgroupfs cgroup driver, containerd systemd', codes: ['node.cgroup-driver/mismatch'] });
    expect(d.evidence.join('\n')).toContain('expected cgroupsPath to be of format \\"slice:prefix:name\\" for systemd cgroups');
  });
  it('node-unreachable: heartbeats stopped; with the host unreachable it is high, from the cluster alone medium', () => {
    expect(top(ev({ cluster: clusterOf() }))).toMatchObject({ cause: 'node-unreachable', confidence: 'medium' });
    expect(top(ev({ cluster: clusterOf(), hostProblem: 'cannot connect to root@10.0.0.12:22: connect EHOSTUNREACH' }))).toMatchObject({ cause: 'node-unreachable', confidence: 'high' });
  });
  it('a reached host refines the cluster\'s view: kubelet down, and no "heartbeats do not reach" guess beside it', () => {
    const d = diagnose(ev({ cluster: clusterOf(), facts: facts({ procs: ['780 containerd', 0] }) }));
    expect(d.map((x) => x.cause)).toEqual(['kubelet-down']);
    // With the kubelet healthy, the path to the API server is what is left.
    expect(diagnose(ev({ cluster: clusterOf(), facts: facts() })).map((x) => x.cause)).toEqual(['node-unreachable']);
  });
  it('bootstrap-token-expired from the kubelet log, high when token.bootstrap finds no valid token', () => {
    const expired = [{ id: 'abcdef', expiration: '2026-05-01T00:00:00Z', usages: ['authentication', 'signing'], deleting: false }];
    const d = top(ev({ cluster: clusterOf({ tokens: expired }), facts: facts(), log: lines('kubelet-bootstrap.txt') }));
    expect(d).toMatchObject({ cause: 'bootstrap-token-expired', confidence: 'high', codes: ['token.bootstrap/none-valid'] });
  });
  it('every cause of the design catalogue has a rule', () => {
    expect(RULES.map((r) => r.cause).sort()).toEqual([
      'bootstrap-token-expired', 'bridge-nf-disabled', 'certificate-expired', 'cgroup-driver-mismatch', 'clock-skew', 'cni-config-missing',
      'cni-plugin-missing', 'cni0-ip-conflict', 'disk-pressure', 'flannel-subnet-missing', 'ip-forward-disabled', 'kubelet-down',
      'memory-pressure', 'node-unreachable', 'runtime-down', 'swap-enabled',
    ]);
  });
});

describe('one judgment per fact: the doctor rests on check findings', () => {
  const declared = new Set(CHECKS.flatMap((c) => [...Object.keys(c.codes), ...Object.keys(GENERIC_CODES)].map((k) => `${c.id}/${k}`)));
  it('every code a rule cites is a code its check declares', () => {
    for (const rule of RULES) for (const code of rule.codes) expect(declared, `${rule.cause} cites ${code}`).toContain(code);
  });
  it('no rule reads host facts: rules see findings, logs and cluster evidence only', () => {
    const dir = join(ROOT, 'src/doctor/rules');
    for (const file of readdirSync(dir)) {
      const text = readFileSync(join(dir, file), 'utf8');
      expect(text, file).not.toMatch(/\.facts\b|collectors\/|from '\.\.\/\.\.\/\.\.\/checks/);
    }
  });
  it('every cause found from host facts cites the code of a check finding', () => {
    const hostCases: NodeEvidence[] = [
      ev({ facts: facts({ procs: ['780 containerd', 0] }) }),
      ev({ facts: facts({ crisock: ['', 0], listen: ['', 0] }) }),
      ev({ facts: facts({ swaps: ['Filename Type Size Used Priority\n/swap.img file 2097148 0 -2', 0] }) }),
      ev({ facts: facts({ cnibin: ['x bridge', 0] }) }),
      ev({ facts: facts({ cninet: ['', 0] }) }),
      ev({ facts: facts({ subnetenv: ['/run/flannel/subnet.env: No such file or directory', 1] }) }),
      ev({ facts: facts({ subnetenv: ['FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.3.1/24', 0] }) }),
      ev({ facts: facts({ certs: [fixture('collector/w1-pre-problems.txt').split('@@kc:certs\n')[1].split('\n@@kc:rc=')[0], 0] }) }),
      ev({ facts: facts({ clock: [((NOW.getTime() + 95_000) / 1000).toFixed(3), 0] }) }),
      ev({ facts: facts({ sysctls: ['net/ipv4/ip_forward=0\nnet/bridge/bridge-nf-call-iptables=0', 0] }) }),
      ev({ facts: facts({ cgroups: ['/var/lib/kubelet/config.yaml:cgroupDriver: systemd\n/etc/containerd/config.toml: SystemdCgroup = false', 0] }) }),
    ];
    const causes = new Set<string>();
    for (const e of hostCases) {
      for (const d of diagnose(e)) {
        causes.add(d.cause);
        expect(d.codes?.length, d.cause).toBeGreaterThan(0);
        for (const c of d.codes ?? []) expect(declared).toContain(c);
      }
    }
    expect([...causes].sort()).toEqual(['bridge-nf-disabled', 'certificate-expired', 'cgroup-driver-mismatch', 'clock-skew', 'cni-config-missing', 'cni-plugin-missing', 'cni0-ip-conflict', 'flannel-subnet-missing', 'ip-forward-disabled', 'kubelet-down', 'runtime-down', 'swap-enabled']);
  });
});

describe('kubelet log handling', () => {
  it('keeps only the kubelet\'s current run (from its last version line)', () => {
    const log = [...lines('real-kubelet-swap.txt'), 'I1202 15:02:00.000000    999 server.go:530] "Kubelet version" kubeletVersion="v1.33.13"', 'I1202 15:02:01.000000    999 kubelet.go:1] "Started kubelet"'];
    expect(currentRun(log)).toEqual(log.slice(-2));
    expect(currentRun(['no version line here'])).toEqual(['no version line here']);
  });
  it('shows a repeated message once, the newest, with its count', () => {
    const repeated = Array.from({ length: 5 }, (_, i) => `E1202 15:06:3${i}.312283   3021${i} run.go:72] "command failed" err="failed to run Kubelet: running with swap on is not supported"`);
    const e: NodeEvidence = { node: NODE, now: NOW, results: [], host: { init: 'other', kubeletLog: repeated, roles: [] } };
    expect(linesMatching(e, ['swap on is not supported'])).toEqual([`${repeated[4]} (×5)`]);
  });
});
