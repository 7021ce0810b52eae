// kubecheck smoke against the real control plane (etcd, kube-apiserver, controller-manager, scheduler)
// with KWOK nodes and pods.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { KWOK_ANNOTATION, createNodes, createToken, daemonSet, deleteToken, installSystem, until } from '../../scripts/cluster-fixtures.js';
import { restartComponent, stopComponent } from '../../scripts/controlplane.js';
import { KubeApi } from '../../src/k8s/api.js';
import { takeSnapshot } from '../../src/k8s/snapshot.js';
import type { CheckResult, RunResult } from '../../src/core/types.js';
import { ROOT } from '../helpers.js';
import { kubecheck } from './helpers.js';

const kubeconfig = inject('kubeconfig');
const clusterDir = inject('clusterDir');
let api: KubeApi;
let tokenId: string;
const NODES = ['kw1', 'kw2', 'kw3'];

const result = (run: RunResult, check: string, target = 'cluster'): CheckResult => {
  const r = run.results.find((x) => x.check === check && x.target === target);
  if (!r) throw new Error(`no ${check} result for ${target}: ${JSON.stringify(run.results.map((x) => `${x.check} ${x.target}`))}`);
  return r;
};

beforeAll(async () => {
  api = await KubeApi.connect({ kubeconfig });
  await installSystem(api);
  await createNodes(api, NODES);
  tokenId = await createToken(api, { expiresInSeconds: 86_400 });
  await until('nodes Ready, kube-proxy and CoreDNS ready, the token signed', 90_000, async () => {
    const ds = await api.getJson<{ status: { numberReady?: number } }>('/apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy');
    const flannel = await api.getJson<{ status: { numberReady?: number } }>('/apis/apps/v1/namespaces/kube-flannel/daemonsets/kube-flannel-ds');
    if (flannel.status.numberReady !== NODES.length) return false;
    const dns = await api.getJson<{ status: { readyReplicas?: number } }>('/apis/apps/v1/namespaces/kube-system/deployments/coredns');
    const info = await api.getJson<{ data: Record<string, string> }>('/api/v1/namespaces/kube-public/configmaps/cluster-info');
    return ds.status.numberReady === NODES.length && dns.status.readyReplicas === 2 && `jws-kubeconfig-${tokenId}` in info.data;
  });
}, 180_000);

afterAll(async () => {
  await deleteToken(api, tokenId);
});

describe('smoke on a healthy cluster', () => {
  it('passes every check, one result per node for cluster.nodes, and writes schema-valid reports', async () => {
    const out = await kubecheck('smoke', '--kubeconfig', kubeconfig, '--json', join(clusterDir, 'smoke.json'), '--junit', join(clusterDir, 'smoke.xml'));
    const run = JSON.parse(readFileSync(join(clusterDir, 'smoke.json'), 'utf8')) as RunResult;
    const notPassing = run.results.filter((r) => r.status !== 'pass').map((r) => `${r.check} ${r.target} ${r.status}: ${r.message}`);
    expect(notPassing).toEqual([]);
    expect(out.code).toBe(0);
    expect(run.results.filter((r) => r.check === 'cluster.nodes').map((r) => r.target)).toEqual(NODES);
    expect(result(run, 'cluster.apiserver').message).toMatch(/^v1\.33\.\d+; \/livez ok; \/readyz ok \(\d+ checks\); serving certificate valid until \d{4}-/);
    expect(result(run, 'cluster.kube-proxy').message).toBe('kube-proxy ready on 3 of 3 nodes');
    expect(result(run, 'token.bootstrap').message).toBe('1 valid bootstrap token, all signed in cluster-info');
    execFileSync('xmllint', ['--noout', '--schema', join(ROOT, 'fixtures/schemas/junit-jenkins.xsd'), join(clusterDir, 'smoke.xml')], { stdio: 'pipe' });
    // CI shows the cluster version and the run's parameters as the suite's properties.
    expect(readFileSync(join(clusterDir, 'smoke.xml'), 'utf8')).toMatch(/<property name="clusterVersion" value="v1\.33\.\d+"\/>/);
    expect(run.parameters).toMatchObject({ suite: 'smoke', clusterVersion: expect.stringMatching(/^v1\.33\./) });
  });

  it('never prints a token secret', async () => {
    const secret = await api.getJson<{ data: Record<string, string> }>(`/api/v1/namespaces/kube-system/secrets/bootstrap-token-${tokenId}`);
    const tokenSecret = Buffer.from(secret.data['token-secret'], 'base64').toString();
    const out = await kubecheck('smoke', '--kubeconfig', kubeconfig, '-o', 'json', '-v');
    const text = await kubecheck('smoke', '--kubeconfig', kubeconfig, '-v');
    expect(out.stdout + text.stdout).not.toContain(tokenSecret);
    expect(out.stdout).toContain(tokenId);
  });
});

describe('the snapshot for host checks alone', () => {
  it('reads the nodes and the version and nothing else (scope nodes), the version alone (scope version)', async () => {
    const nodesOnly = await KubeApi.connect({ kubeconfig });
    const a = await takeSnapshot(nodesOnly, { scope: 'nodes' });
    expect(a.version.ok).toBe(true);
    expect(a.nodes.ok && a.nodes.items.map((n) => n.name)).toEqual(expect.arrayContaining(NODES));
    expect(a.nodes.ok && a.nodes.items.find((n) => n.name === NODES[0])?.podCIDRs.length).toBeGreaterThan(0);
    expect(a.systemPods).toMatchObject({ ok: false, detail: expect.stringMatching(/^not read/) });
    expect(a.readyz).toMatchObject({ ok: false, reason: 'unavailable' });
    expect(Object.keys(Object.fromEntries(nodesOnly.listCalls))).toEqual(['/api/v1/nodes']);
    const versionOnly = await KubeApi.connect({ kubeconfig });
    const b = await takeSnapshot(versionOnly, { scope: 'version' });
    expect(b.version.ok).toBe(true);
    expect(b.nodes.ok).toBe(false);
    expect(versionOnly.listCalls.size).toBe(0);
    // The whole snapshot still lists everything it did.
    const whole = await KubeApi.connect({ kubeconfig });
    await takeSnapshot(whole, {});
    expect(whole.listCalls.size).toBeGreaterThan(5);
  });
});

describe('flannel on the cluster', () => {
  it('fails when a flannel pod is not ready on a node, or net-conf Network differs from the pod CIDR', async () => {
    const pods = await api.getJson<{ items: { metadata: { name: string }; spec: { nodeName: string }; status: Record<string, unknown> }[] }>('/api/v1/namespaces/kube-flannel/pods');
    const pod = pods.items.find((p) => p.spec.nodeName === 'kw2')!;
    // The pod's container crashes: Running but not Ready (KWOK's ready stage only acts on Pending pods).
    const status = { ...pod.status, conditions: [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady' }, { type: 'ContainersReady', status: 'False' }] };
    await api.send('PUT', `/api/v1/namespaces/kube-flannel/pods/${pod.metadata.name}/status`, { ...pod, status });
    const cm = '/api/v1/namespaces/kube-flannel/configmaps/kube-flannel-cfg';
    const original = await api.getJson<{ data: Record<string, string> }>(cm);
    await api.send('PATCH', cm, { data: { 'net-conf.json': JSON.stringify({ Network: '10.10.0.0/16', Backend: { Type: 'vxlan' } }) } }, undefined, 'application/merge-patch+json');
    try {
      await until('the DaemonSet to count the pod not ready', 30_000, async () => {
        const ds = await api.getJson<{ status: { numberReady?: number } }>('/apis/apps/v1/namespaces/kube-flannel/daemonsets/kube-flannel-ds');
        return ds.status.numberReady === NODES.length - 1;
      });
      const out = await kubecheck('smoke', '--kubeconfig', kubeconfig, '--only', 'cni.flannel-daemonset', '-o', 'json');
      expect(out.code).toBe(1);
      const r = result(JSON.parse(out.stdout) as RunResult, 'cni.flannel-daemonset');
      expect(r.status).toBe('fail');
      expect(r.message).toContain(`kube-flannel ready on 2 of 3 nodes; not ready on kw2 (${pod.metadata.name}:`);
      expect(r.message).toContain("flannel's net-conf.json Network 10.10.0.0/16 differs from the cluster pod CIDR 10.244.0.0/16 (kubeadm-config podSubnet)");
    } finally {
      await api.send('PATCH', cm, { data: original.data }, undefined, 'application/merge-patch+json');
      await api.send('DELETE', `/api/v1/namespaces/kube-flannel/pods/${pod.metadata.name}`, undefined);
    }
    await until('flannel to be ready again', 60_000, async () => (await kubecheck('smoke', '--kubeconfig', kubeconfig, '--only', 'cni.flannel-daemonset', '-q')).code === 0);
  }, 120_000);

  it('on a cluster that runs calico, not flannel, the flannel check is skipped with the reason, not failed', async () => {
    await api.send('DELETE', '/apis/apps/v1/namespaces/kube-flannel/daemonsets/kube-flannel-ds', { propagationPolicy: 'Background' });
    await api.send('POST', '/apis/apps/v1/namespaces/kube-system/daemonsets', daemonSet('kube-system', 'calico-node', { 'k8s-app': 'calico-node' }, 'docker.io/calico/node:v3.29.0'));
    try {
      const out = await kubecheck('smoke', '--kubeconfig', kubeconfig, '--only', 'cni.*', '-o', 'json');
      const run = JSON.parse(out.stdout) as RunResult;
      expect(run.results.map((r) => [r.check, r.status, r.code])).toEqual([['cni.flannel-daemonset', 'skip', 'cni.flannel-daemonset/not-flannel']]);
      expect(run.results[0].message).toBe('not flannel: this cluster runs calico; these checks do not apply');
      expect(run.targets?.find((t) => t.kind === 'cluster')).toMatchObject({ profile: 'kubeadm', cni: 'calico' });
      expect(out.code).toBe(0);
    } finally {
      await api.send('DELETE', '/apis/apps/v1/namespaces/kube-system/daemonsets/calico-node', { propagationPolicy: 'Background' });
      await installSystem(api);
      await until('flannel to be ready again', 90_000, async () => (await kubecheck('smoke', '--kubeconfig', kubeconfig, '--only', 'cni.flannel-daemonset', '-q')).code === 0);
    }
  }, 180_000);
});

describe('bootstrap tokens', () => {
  const made: string[] = [];
  afterAll(async () => {
    for (const id of made) await deleteToken(api, id);
  });

  it('an expired token fails, one expiring in 1 h warns, one that never expires warns', async () => {
    // The tokencleaner deletes expired tokens at once; a finalizer keeps this one visible while being deleted.
    const expired = await createToken(api, { expiresInSeconds: -3600, finalizer: 'kubecheck.test/keep' });
    const soon = await createToken(api, { expiresInSeconds: 3600 });
    const never = await createToken(api, { expiresInSeconds: null });
    made.push(expired, soon, never);
    await until('the bootstrapsigner to sign the new tokens', 30_000, async () => {
      const info = await api.getJson<{ data: Record<string, string> }>('/api/v1/namespaces/kube-public/configmaps/cluster-info');
      return `jws-kubeconfig-${soon}` in info.data && `jws-kubeconfig-${never}` in info.data;
    });
    const out = await kubecheck('smoke', '--kubeconfig', kubeconfig, '--only', 'token.bootstrap', '-o', 'json');
    const r = result(JSON.parse(out.stdout) as RunResult, 'token.bootstrap');
    expect(r.status).toBe('fail');
    expect(r.message).toMatch(new RegExp(`token ${expired} expired (60|61) min ago`));
    expect(r.message).toMatch(new RegExp(`token ${soon} expires in (59|60) min`));
    expect(r.message).toContain(`token ${never} never expires`);
    expect(r.remediation).toContain('kubeadm token create --print-join-command');
    expect(out.code).toBe(1);
  });
});

describe('a restricted user', () => {
  it('gets error results naming the missing permissions, then passes once the RBAC manifest is bound', async () => {
    const restricted = join(clusterDir, 'restricted.kubeconfig');
    const denied = await kubecheck('smoke', '--kubeconfig', restricted, '-o', 'json');
    expect(denied.code).toBe(1);
    const run = JSON.parse(denied.stdout) as RunResult;
    expect(result(run, 'cluster.nodes')).toMatchObject({ status: 'error', message: expect.stringMatching(/^permission denied: cannot list nodes \(.*User "kubecheck-restricted" cannot list resource "nodes"/) });
    expect(result(run, 'token.bootstrap')).toMatchObject({ status: 'error', message: expect.stringContaining('cannot list resource "secrets"') });
    expect(denied.stderr).not.toMatch(/at .*\.m?js:\d+/);

    const manifest = readFileSync(join(ROOT, 'deploy/rbac/kubecheck-smoke.yaml'), 'utf8');
    const docs = manifest.split(/^---$/m).map((d) => d.trim()).filter(Boolean);
    const { parse } = await import('yaml');
    const created: string[] = [];
    for (const doc of docs) {
      const obj = parse(doc) as { kind: string; metadata: { name: string; namespace?: string } };
      const ns = obj.metadata.namespace;
      const path = obj.kind === 'ClusterRole' ? '/apis/rbac.authorization.k8s.io/v1/clusterroles' : `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles`;
      await api.send('POST', path, obj);
      created.push(`${path}/${obj.metadata.name}`);
      const binding = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: obj.kind === 'ClusterRole' ? 'ClusterRoleBinding' : 'RoleBinding', metadata: { name: 'kubecheck-smoke-test', ...(ns ? { namespace: ns } : {}) }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: obj.kind, name: obj.metadata.name }, subjects: [{ kind: 'User', name: 'kubecheck-restricted', apiGroup: 'rbac.authorization.k8s.io' }] };
      const bpath = obj.kind === 'ClusterRole' ? '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings' : `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`;
      await api.send('POST', bpath, binding);
      created.push(`${bpath}/kubecheck-smoke-test`);
    }
    try {
      await until('RBAC to apply', 10_000, async () => (await kubecheck('smoke', '--kubeconfig', restricted, '-q')).code === 0);
      const allowed = JSON.parse((await kubecheck('smoke', '--kubeconfig', restricted, '-o', 'json')).stdout) as RunResult;
      expect(allowed.results.filter((r) => r.status !== 'pass').map((r) => `${r.check}: ${r.message}`)).toEqual([]);
    } finally {
      for (const path of created) await api.send('DELETE', path, undefined);
    }
  }, 60_000);
});

describe('faults', () => {
  it('a stopped scheduler and nodes whose KWOK heartbeat stops make their checks fail with the reason', async () => {
    const suite = join(clusterDir, 'faults.yaml');
    writeFileSync(suite, 'name: faults\nchecks:\n  - { id: cluster.scheduler, params: { leaseSlackSeconds: 0 } }\n  - cluster.controller-manager\n  - { id: cluster.nodes, params: { maxLeaseAgeSeconds: 10 } }\n');
    stopComponent('kube-scheduler', clusterDir);
    stopComponent('kwok', clusterDir); // KWOK is every node's kubelet: their heartbeats stop
    try {
      await until('the scheduler and node leases to go stale', 60_000, async () => {
        const run = JSON.parse((await kubecheck('run', suite, '--kubeconfig', kubeconfig, '-o', 'json')).stdout) as RunResult;
        return run.results.filter((r) => r.status === 'fail').length === 1 + NODES.length;
      });
      const run = JSON.parse((await kubecheck('run', suite, '--kubeconfig', kubeconfig, '-o', 'json')).stdout) as RunResult;
      expect(result(run, 'cluster.scheduler')).toMatchObject({ status: 'fail', message: expect.stringMatching(/^the leader lease of kube-scheduler was last renewed \d+ s ago by .* \(lease 15 s\): no instance is leading/) });
      expect(result(run, 'cluster.controller-manager').status).toBe('pass');
      for (const node of NODES) {
        expect(result(run, 'cluster.nodes', node)).toMatchObject({ status: 'fail', message: expect.stringMatching(/node lease not renewed for \d+ s \(limit 10 s\): the kubelet stopped posting its heartbeat/) });
      }
    } finally {
      await restartComponent('kube-scheduler', clusterDir);
      await restartComponent('kwok', clusterDir);
    }
    await until('the scheduler to lead and the nodes to heartbeat again', 90_000, async () => (await kubecheck('smoke', '--kubeconfig', kubeconfig, '--only', 'cluster.scheduler,cluster.nodes', '-q')).code === 0);
  }, 240_000);

  it('exits 3 when the API server cannot be reached, and 2 for a kubeconfig that is not one', async () => {
    const dead = join(clusterDir, 'dead.kubeconfig');
    writeFileSync(dead, readFileSync(kubeconfig, 'utf8').replace(/server: https:\/\/127\.0\.0\.1:\d+/, 'server: https://127.0.0.1:1'));
    const out = await kubecheck('smoke', '--kubeconfig', dead, '-o', 'json');
    expect(out.code).toBe(3);
    const doctor = await kubecheck('doctor', '--kubeconfig', dead, '-o', 'json');
    expect(doctor.code).toBe(3);
    expect(JSON.parse(doctor.stdout).results[0]).toMatchObject({ target: 'cluster', status: 'error', message: expect.stringMatching(/^cluster not reached: cannot list nodes: .*ECONNREFUSED/) });
    expect(JSON.parse(out.stdout).results[0].message).toMatch(/^cluster not reached: .*ECONNREFUSED/);
    writeFileSync(join(clusterDir, 'junk.kubeconfig'), 'this: [is not');
    const junk = await kubecheck('smoke', '--kubeconfig', join(clusterDir, 'junk.kubeconfig'));
    expect(junk.code).toBe(2);
    expect(junk.stderr).toContain('not a usable kubeconfig');
    const ctx = await kubecheck('smoke', '--kubeconfig', kubeconfig, '--context', 'nope');
    expect(ctx.code).toBe(2);
    expect(ctx.stderr).toContain('--context nope: no such context');
  });
});
