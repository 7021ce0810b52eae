import { describe, expect, it } from 'vitest';
import { apiserver } from '../../checks/cluster/apiserver.js';
import { controllerManager } from '../../checks/cluster/controller-manager.js';
import { coredns } from '../../checks/cluster/coredns.js';
import { etcd } from '../../checks/cluster/etcd.js';
import { kubeProxy } from '../../checks/cluster/kube-proxy.js';
import { nodes } from '../../checks/cluster/nodes.js';
import { scheduler } from '../../checks/cluster/scheduler.js';
import { systemPods } from '../../checks/cluster/system-pods.js';
import { bootstrap } from '../../checks/token/bootstrap.js';
import { known, unknown } from '../../src/core/facts.js';
import type { Finding } from '../../src/core/types.js';
import { parseVerboseHealth, type ClusterSnapshot, type PodInfo } from '../../src/k8s/snapshot.js';
import { fixture } from '../helpers.js';
import { RECORDED_AT, recordedSnapshot } from './cluster-snapshot.js';

const ctx = (params: Record<string, unknown> = {}, now = RECORDED_AT) => ({ params, now });
const one = (f: Finding | Map<string, Finding>) => {
  if (f instanceof Map) throw new Error('expected one finding');
  return f;
};
const later = (seconds: number) => new Date(RECORDED_AT.getTime() + seconds * 1000);

describe('cluster checks on a recorded healthy cluster', () => {
  const s = recordedSnapshot();
  it('all pass', () => {
    for (const check of [apiserver, etcd, scheduler, controllerManager, kubeProxy, coredns, systemPods, bootstrap]) {
      expect(one(check.run(s, ctx())), check.id).toMatchObject({ status: 'pass' });
    }
    const perNode = nodes.run(s, ctx()) as Map<string, Finding>;
    expect([...perNode.keys()]).toEqual(['kw1', 'kw2']);
    expect([...perNode.values()].map((f) => f.status)).toEqual(['pass', 'pass']);
  });
  it('never carries a token secret into the snapshot', () => {
    const secret = Buffer.from((JSON.parse(fixture('cluster/bootstrap-tokens.json')) as { items: { data: Record<string, string> }[] }).items[0].data['token-secret'], 'base64').toString();
    expect(JSON.stringify(s)).not.toContain(secret);
  });
});

describe('cluster.apiserver and cluster.etcd', () => {
  it('names every failing /readyz sub-check', () => {
    const body = '[+]ping ok\n[-]etcd failed: reason withheld\n[+]log ok\n[-]poststarthook/rbac/bootstrap-roles failed: reason withheld\nreadyz check failed';
    const s: ClusterSnapshot = { ...recordedSnapshot(), readyz: known({ ok: false, ...parseVerboseHealth(body), body }) };
    expect(one(apiserver.run(s, ctx()))).toMatchObject({ status: 'fail', message: '/readyz fails: etcd, poststarthook/rbac/bootstrap-roles' });
    expect(one(etcd.run(s, ctx()))).toMatchObject({ status: 'fail', message: "the API server's etcd checks fail: etcd" });
  });
  it('fails an expired serving certificate and warns on one expiring soon', () => {
    const expired = { ...recordedSnapshot(), servingCert: known({ subject: 'CN=kube-apiserver', notAfter: '2020-01-01T00:00:00.000Z' }) };
    expect(one(apiserver.run(expired, ctx()))).toMatchObject({ status: 'fail', message: 'the serving certificate expired on 2020-01-01' });
    const soon = { ...recordedSnapshot(), servingCert: known({ subject: 'CN=kube-apiserver', notAfter: later(10 * 86400).toISOString() }) };
    expect(one(apiserver.run(soon, ctx())).status).toBe('warn');
  });
  it('errors when the API server does not answer', () => {
    const down = { ...recordedSnapshot(), version: unknown<never>('error', 'ECONNREFUSED'), livez: unknown<never>('error', 'ECONNREFUSED'), readyz: unknown<never>('error', 'ECONNREFUSED') };
    expect(one(apiserver.run(down, ctx())).status).toBe('error');
  });
});

describe('leader election', () => {
  it('fails when the lease goes stale, naming the last holder and the age', () => {
    const f = one(scheduler.run(recordedSnapshot(), ctx({}, later(120))));
    expect(f.status).toBe('fail');
    expect(f.message).toMatch(/^the leader lease of kube-scheduler was last renewed 2 min ago by vm_[\w-]+ \(lease 15 s\): no instance is leading$/);
  });
  it('fails with no lease, and when /healthz says not ok', () => {
    const s = recordedSnapshot();
    const noLease = { ...s, systemLeases: { ok: true as const, items: s.systemLeases.ok ? s.systemLeases.items.filter((l) => l.name !== 'kube-controller-manager') : [] } };
    expect(one(controllerManager.run(noLease, ctx())).message).toMatch(/^no leader lease kube-system\/kube-controller-manager/);
    const sick = { ...s, componentHealth: { ...s.componentHealth, 'kube-scheduler': known({ ok: false, detail: 'HTTP 500: [-]leaderElection failed' }) } };
    expect(one(scheduler.run(sick, ctx())).message).toContain('/healthz is not ok: HTTP 500');
  });
  it('reports a denied lease list as an error naming the permission', () => {
    const denied = { ...recordedSnapshot(), systemLeases: { ok: false as const, forbidden: true, detail: 'leases.coordination.k8s.io is forbidden' } };
    expect(one(scheduler.run(denied, ctx()))).toMatchObject({ status: 'error', message: expect.stringMatching(/^permission denied: cannot list leases in kube-system/) });
  });
});

describe('cluster.nodes', () => {
  it('fails a NotReady node with its reason and message, and a stale lease', () => {
    const s = recordedSnapshot();
    if (!s.nodes.ok) throw new Error('fixture');
    const kw2 = s.nodes.items[1];
    kw2.conditions = kw2.conditions.map((c) => (c.type === 'Ready' ? { ...c, status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastTransitionTime: '2026-11-22T14:02:00Z' } : c));
    const out = nodes.run(s, ctx({}, later(90))) as Map<string, Finding>;
    expect(out.get('kw2')?.message).toMatch(/^Ready=Unknown \(NodeStatusUnknown\) since 2026-11-22T14:02:00Z: Kubelet stopped posting node status\.; node lease not renewed for \d+ s/);
    expect(out.get('kw1')?.message).toMatch(/^node lease not renewed/);
  });
  it('fails pressure conditions and unsupported kubelet versions; warns on a cordoned node', () => {
    const s = recordedSnapshot();
    if (!s.nodes.ok) throw new Error('fixture');
    const [kw1, kw2] = s.nodes.items;
    kw1.conditions = kw1.conditions.map((c) => (c.type === 'DiskPressure' ? { ...c, status: 'True', message: 'kubelet has disk pressure' } : c));
    kw1.kubeletVersion = 'v1.34.0';
    kw2.kubeletVersion = 'v1.29.4';
    kw2.unschedulable = true;
    const out = nodes.run(s, ctx()) as Map<string, Finding>;
    expect(out.get('kw1')?.message).toBe('DiskPressure: kubelet has disk pressure; kubelet v1.34.0 is newer than the API server (v1.33.13): upgrade the control plane first');
    expect(out.get('kw2')).toMatchObject({ status: 'fail', message: 'kubelet v1.29.4 is 4 minor versions behind the API server (at most 3 are supported); cordoned (unschedulable)' });
  });
});

describe('system add-ons', () => {
  const crashing = (s: ClusterSnapshot, match: (p: PodInfo) => boolean) => {
    if (!s.systemPods.ok) throw new Error('fixture');
    for (const p of s.systemPods.items.filter(match)) {
      p.ready = false;
      p.containers = p.containers.map((c) => ({ ...c, ready: false, restarts: 7, waiting: { reason: 'CrashLoopBackOff', message: 'back-off 5m0s' }, lastTerminated: { reason: 'Error', exitCode: 1 } }));
    }
    return s;
  };
  it('fails kube-proxy with not-ready nodes and the crash-looping pods', () => {
    const s = crashing(recordedSnapshot(), (p) => p.labels['k8s-app'] === 'kube-proxy' && p.node === 'kw2');
    if (s.daemonSets.ok) s.daemonSets.items.find((d) => d.name === 'kube-proxy')!.ready = 1;
    const f = one(kubeProxy.run(s, ctx()));
    expect(f.status).toBe('fail');
    expect(f.message).toMatch(/^kube-proxy ready on 1 of 2 nodes: kube-system\/kube-proxy-\w+ on kw2: container kube-proxy CrashLoopBackOff \(last exit: Error, code 1\), 7 restarts$/);
  });
  it('fails CoreDNS with no ready replica and system-pods with the crash loop', () => {
    const s = crashing(recordedSnapshot(), (p) => p.labels['k8s-app'] === 'kube-dns');
    if (s.deployments.ok) s.deployments.items[0].ready = 0;
    expect(one(coredns.run(s, ctx())).message).toMatch(/^CoreDNS ready 0\/2: kube-system\/coredns-/);
    expect(one(systemPods.run(s, ctx())).message).toMatch(/^2 system pod problems: kube-system\/coredns-\S+ on kw\d: container coredns CrashLoopBackOff/);
  });
  it('fails a system pod Pending for too long', () => {
    const s = recordedSnapshot();
    if (!s.systemPods.ok) throw new Error('fixture');
    s.systemPods.items.push({ namespace: 'kube-system', name: 'metrics-server-0', phase: 'Pending', labels: {}, ready: false, containers: [], createdAt: '2026-01-01T00:00:00Z', deleting: false, message: '0/2 nodes are available: 2 Insufficient cpu.' });
    expect(one(systemPods.run(s, ctx())).message).toMatch(/^1 system pod problem: kube-system\/metrics-server-0: Pending for \d+ days: 0\/2 nodes are available/);
  });
});

describe('token.bootstrap', () => {
  const base = recordedSnapshot();
  const withTokens = (tokens: { id: string; expiration?: string; usages?: string[] }[], signed: string[]) => ({
    ...base,
    tokens: { ok: true as const, items: tokens.map((t) => ({ usages: ['authentication', 'signing'], deleting: false, ...t })) },
    clusterInfoSignatures: known(signed),
  });
  it('fails an expired token, warns on one expiring within 2 h and on one that never expires', () => {
    const s = withTokens([
      { id: 'aaaaaa', expiration: later(-600).toISOString() },
      { id: 'bbbbbb', expiration: later(3600).toISOString() },
      { id: 'cccccc' },
    ], ['bbbbbb', 'cccccc']);
    const f = one(bootstrap.run(s, ctx()));
    expect(f.status).toBe('fail');
    expect(f.message).toBe('token aaaaaa expired 10 min ago (' + later(-600).toISOString() + '); token bbbbbb expires in 60 min; token cccccc never expires: a standing credential to join the cluster');
  });
  it('fails a valid token without a JWS signature in cluster-info', () => {
    const f = one(bootstrap.run(withTokens([{ id: 'dddddd', expiration: later(86400).toISOString() }], []), ctx()));
    expect(f.message).toContain('token dddddd has no JWS signature in kube-public/cluster-info');
  });
  it('with no valid token: warns, or fails when a join is planned', () => {
    expect(one(bootstrap.run(withTokens([], []), ctx())).status).toBe('warn');
    expect(one(bootstrap.run(withTokens([], []), ctx({ joinPlanned: true }))).message).toBe('no valid bootstrap token (none exist): kubeadm join will fail');
  });
});
