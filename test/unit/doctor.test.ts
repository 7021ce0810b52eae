import { describe, expect, it } from 'vitest';
import { parseNodeFacts } from '../../src/collectors/node/index.js';
import { diagnose } from '../../src/doctor/diagnose.js';
import type { ClusterEvidence, NodeEvidence } from '../../src/doctor/evidence.js';
import { RULES } from '../../src/doctor/rules/index.js';
import type { NodeFacts } from '../../src/core/facts.js';
import { fixture, NOW, withSections } from '../helpers.js';

// A worker that is healthy after install: kubelet and containerd running, flannel in place.
const HEALTHY = withSections(fixture('collector/cp1-post-healthy.txt'), {
  clock: [(NOW.getTime() / 1000).toFixed(3), 0],
  certs: [fixture('collector/cp1-post-healthy.txt').split('@@kc:certs\n')[1].split('\n@@kc:rc=')[0].replace(/==> \/etc\/kubernetes\/pki\/apiserver\.crt[\s\S]*?(?===> \/etc\/kubernetes\/pki\/ca\.crt)/, ''), 0],
});
const facts = (replace: Record<string, [string, number]> = {}): NodeFacts =>
  parseNodeFacts(withSections(HEALTHY, replace), { sentAt: NOW.getTime() - 10, firstByteAt: NOW.getTime() + 10, endedAt: NOW.getTime() + 20 });
const lines = (file: string) => fixture(`doctor/${file}`).trim().split('\n');

function notReady(over: Partial<ClusterEvidence> = {}): ClusterEvidence {
  const ready = { type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastTransitionTime: '2026-06-01T08:02:00Z' };
  return {
    node: { name: 'w2', labels: {}, annotations: {}, podCIDRs: ['10.244.3.0/24'], kubeletVersion: 'v1.33.13', conditions: [ready], addresses: [{ type: 'InternalIP', address: '10.0.0.12' }], unschedulable: false },
    ready,
    leaseRenewTime: '2026-06-01T08:01:30Z',
    leaseDurationSeconds: 40,
    events: [],
    pods: [],
    ...over,
  };
}

const ev = (over: Partial<NodeEvidence>): NodeEvidence => ({ node: 'w2', now: NOW, ...over });
const host = (f: NodeFacts, log: string[] = []) => ({ facts: f, kubeletLog: log, roles: ['worker'] });
const top = (e: NodeEvidence) => diagnose(e)[0];

describe('doctor rules, each on recorded evidence', () => {
  it('a healthy host is healthy', () => {
    expect(top(ev({ host: host(facts()) }))).toMatchObject({ cause: 'healthy', confidence: 'high' });
  });
  it('kubelet-down: no kubelet process', () => {
    expect(top(ev({ host: host(facts({ procs: ['780 containerd', 0], services: ['units kubelet containerd\ninactive\nactive', 0] })) }))).toMatchObject({ cause: 'kubelet-down', confidence: 'high', summary: 'the kubelet is not running on the host (systemd: inactive)' });
  });
  it('runtime-down: the CRI socket is gone, with the PLEG lines as evidence', () => {
    const d = top(ev({ host: host(facts({ crisock: ['', 0], listen: ['tcp LISTEN 0 4096 *:10250 *:* users:(("kubelet",pid=812,fd=25))', 0] }), lines('kubelet-pleg.txt')) }));
    expect(d).toMatchObject({ cause: 'runtime-down', confidence: 'high' });
    expect(d.evidence.join('\n')).toContain('PLEG is not healthy');
    expect(d.fix[0]).toBe('systemctl restart containerd');
  });
  it('runtime-down from cluster evidence alone is medium', () => {
    const c = notReady({ ready: { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'PLEG is not healthy: pleg was last seen active 3m12s ago' }, leaseRenewTime: NOW.toISOString() });
    expect(top(ev({ cluster: c }))).toMatchObject({ cause: 'runtime-down', confidence: 'medium' });
  });
  it('swap-enabled outranks the kubelet it stopped', () => {
    const d = diagnose(ev({ host: host(facts({ swaps: ['Filename Type Size Used Priority\n/swap.img file 2097148 0 -2', 0], procs: ['780 containerd', 0] }), lines('kubelet-swap.txt')) }));
    expect(d.map((x) => x.cause)).toEqual(['swap-enabled', 'kubelet-down']);
    expect(d[0].evidence).toContain(lines('kubelet-swap.txt')[1]);
    expect(d[0].fix[0]).toBe('kubecheck fix swap --node w2 --apply');
  });
  it('cni-plugin-missing: flannel missing, or not executable', () => {
    expect(top(ev({ host: host(facts({ cnibin: ['x bridge\nx host-local\nx loopback\nx portmap', 0] }), lines('kubelet-cni-plugin.txt')) }))).toMatchObject({ cause: 'cni-plugin-missing', summary: '/opt/cni/bin/flannel is missing: failed to find plugin "flannel" in path [/opt/cni/bin]' });
    expect(top(ev({ host: host(facts({ cnibin: ['- flannel\nx bridge', 0] })) }))).toMatchObject({ cause: 'cni-plugin-missing', summary: '/opt/cni/bin/flannel is not executable' });
    expect(top(ev({ cluster: notReady({ events: lines('kubelet-cni-plugin.txt'), leaseRenewTime: NOW.toISOString(), ready: { type: 'Ready', status: 'True' } }) }))).toMatchObject({ cause: 'cni-plugin-missing', confidence: 'medium' });
  });
  it('cni-config-missing: an empty /etc/cni/net.d; from the node condition alone, medium', () => {
    expect(top(ev({ host: host(facts({ cninet: ['', 0] }), lines('kubelet-cni-config.txt')) }))).toMatchObject({ cause: 'cni-config-missing', confidence: 'high' });
    const c = notReady({ ready: { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni config uninitialized' }, leaseRenewTime: NOW.toISOString() });
    expect(top(ev({ cluster: c }))).toMatchObject({ cause: 'cni-config-missing', confidence: 'medium' });
  });
  it('flannel-subnet-missing: no subnet.env; or the sandbox events', () => {
    expect(top(ev({ host: host(facts({ subnetenv: ['/run/flannel/subnet.env: No such file or directory', 1] })) }))).toMatchObject({ cause: 'flannel-subnet-missing', confidence: 'high' });
    expect(top(ev({ cluster: notReady({ events: lines('events-subnet.txt'), ready: { type: 'Ready', status: 'True' }, leaseRenewTime: NOW.toISOString() }) }))).toMatchObject({ cause: 'flannel-subnet-missing', confidence: 'medium' });
  });
  it('cni0-ip-conflict: cni0 outside the flannel subnet, with the fix command', () => {
    const f = facts({ subnetenv: ['FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.3.1/24', 0] });
    const d = top(ev({ host: host(f), cluster: notReady({ events: lines('events-cni0.txt'), ready: { type: 'Ready', status: 'True' }, leaseRenewTime: NOW.toISOString() }) }));
    expect(d).toMatchObject({ cause: 'cni0-ip-conflict', confidence: 'high', summary: "cni0 has 10.244.0.1/24 but this node's flannel subnet is 10.244.3.1/24", fix: ['kubecheck fix cni0 --node w2 --apply'] });
    expect(d.evidence.join('\n')).toContain('already has an IP address different from 10.244.3.1/24');
  });
  it('certificate-expired: an expired apiserver or kubelet client certificate', () => {
    const certs = fixture('collector/w1-pre-problems.txt').split('@@kc:certs\n')[1].split('\n@@kc:rc=')[0];
    const d = top(ev({ host: host(facts({ certs: [certs, 0] }), lines('kubelet-x509.txt')) }));
    expect(d.cause).toBe('certificate-expired');
    expect(d.summary).toBe('expired certificates: /etc/kubernetes/pki/apiserver.crt (2026-01-01), /var/lib/kubelet/pki/kubelet-client-current.pem (2026-02-01)');
  });
  it('clock-skew: the host clock far from ours', () => {
    const f = facts({ clock: [((NOW.getTime() + 95_000) / 1000).toFixed(3), 0] });
    expect(top(ev({ host: host(f) }))).toMatchObject({ cause: 'clock-skew', summary: "the host clock is 95.0 s ahead of this machine's" });
  });
  it('disk-pressure and memory-pressure from node conditions', () => {
    const c = notReady({ ready: { type: 'Ready', status: 'True' }, leaseRenewTime: NOW.toISOString() });
    c.node.conditions.push({ type: 'DiskPressure', status: 'True', message: 'kubelet has disk pressure' }, { type: 'MemoryPressure', status: 'True', message: 'kubelet has insufficient memory available' });
    expect(diagnose(ev({ cluster: c })).map((d) => d.cause)).toEqual(['disk-pressure', 'memory-pressure']);
  });
  it('ip-forward-disabled and bridge-nf-disabled from sysctls', () => {
    const d = diagnose(ev({ host: host(facts({ sysctls: ['net/ipv4/ip_forward=0\nnet/bridge/bridge-nf-call-iptables=<missing>', 0] })) }));
    expect(d.map((x) => x.cause)).toEqual(['ip-forward-disabled', 'bridge-nf-disabled']);
  });
  it('cgroup-driver-mismatch from the configs or the kubelet log', () => {
    expect(top(ev({ host: host(facts({ cgroups: ['/var/lib/kubelet/config.yaml:cgroupDriver: systemd\n/etc/containerd/config.toml:            SystemdCgroup = false', 0], procs: ['780 containerd', 0] }), lines('kubelet-cgroup.txt')) })))
      .toMatchObject({ cause: 'cgroup-driver-mismatch', confidence: 'high', summary: 'the kubelet uses the systemd cgroup driver, containerd cgroupfs' });
  });
  it('node-unreachable: heartbeats stopped; with the host unreachable it is high, from the cluster alone medium', () => {
    expect(top(ev({ cluster: notReady() }))).toMatchObject({ cause: 'node-unreachable', confidence: 'medium' });
    expect(top(ev({ cluster: notReady(), hostProblem: 'cannot connect to root@10.0.0.12:22: connect EHOSTUNREACH' }))).toMatchObject({ cause: 'node-unreachable', confidence: 'high' });
  });
  it('the host refines the cluster\'s view: kubelet down beats the generic unreachable', () => {
    const d = diagnose(ev({ cluster: notReady(), host: host(facts({ procs: ['780 containerd', 0] })) }));
    expect(d.map((x) => x.cause)).toEqual(['kubelet-down', 'node-unreachable']);
  });
  it('bootstrap-token-expired from the kubelet log, high when no valid token exists', () => {
    const d = top(ev({ cluster: notReady({ validTokens: 0 }), host: host(facts(), lines('kubelet-bootstrap.txt')) }));
    expect(d).toMatchObject({ cause: 'bootstrap-token-expired', confidence: 'high' });
  });
  it('every cause of the design catalogue has a rule', () => {
    expect(RULES.map((r) => r.cause).sort()).toEqual([
      'bootstrap-token-expired', 'bridge-nf-disabled', 'certificate-expired', 'cgroup-driver-mismatch', 'clock-skew', 'cni-config-missing',
      'cni-plugin-missing', 'cni0-ip-conflict', 'disk-pressure', 'flannel-subnet-missing', 'ip-forward-disabled', 'kubelet-down',
      'memory-pressure', 'node-unreachable', 'runtime-down', 'swap-enabled',
    ]);
  });
});
