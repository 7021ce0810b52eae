// In-cluster collection on the real cluster: the collector's DaemonSet runs on the real nodes (image pulled
// from the local registry through --image-registry), kubecheck runs its node collector in each pod through
// exec under `chroot /host`, and the results must be the ones SSH gives for the same hosts — healthy and
// with real faults. Nodes that cannot run the pod say why (NotReady, the pull error) and fall back to SSH
// with an inventory; RBAC, Ctrl-C and a killed run leave nothing behind.
import { spawn } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { $ } from 'zx';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CheckResult, RunResult } from '../../src/core/types.js';
import { createManifest, deleteManifest } from '../../scripts/realcluster.js';
import { ROOT, kubecheck, kubecheckWith } from '../helpers.js';
import { REGISTRY, type Real, bindClusterRole, realCluster, userKubeconfig, waitFor, waitNotReady, withFaults } from './helpers.js';

let r: Real;
beforeAll(async () => {
  r = await realCluster();
}, 900_000);

const IMAGE = ['--image-registry', REGISTRY];

async function runJson(name: string, ...args: string[]): Promise<{ code: number; run: RunResult; stdout: string; stderr: string }> {
  const json = join(r.cluster.dir, `${name}.json`);
  const out = await kubecheck(...args, '--json', json);
  return { ...out, run: JSON.parse(readFileSync(json, 'utf8')) as RunResult };
}

/** What the two ways must agree on: every check, target and status. */
const triples = (run: RunResult) => run.results.map((x) => `${x.target} ${x.check} ${x.status}`).sort();
const result = (run: RunResult, check: string, target: string): CheckResult | undefined => run.results.find((x) => x.check === check && x.target === target);
const reachedBy = (run: RunResult) => Object.fromEntries((run.targets ?? []).filter((t) => t.kind === 'host').map((t) => [t.name, t.reached ? t.reachedBy : `not reached: ${t.problem}`]));

/** The in-cluster collections' namespaces still in the cluster. */
async function collectorNamespaces(): Promise<string[]> {
  const list = await r.api.getJson<{ items: { metadata: { name: string } }[] }>('/api/v1/namespaces?labelSelector=kubecheck.dev%2Fcollector%3Dtrue');
  return list.items.map((n) => n.metadata.name);
}

describe('in-cluster collection on the real nodes', { timeout: 420_000 }, () => {
  it('run node --in-cluster gives what run node -i gives over SSH on the healthy cluster, and deletes its namespace', async () => {
    const ssh = await runJson('incluster-ssh', 'run', 'node', '-i', r.cluster.inventory, '--kubeconfig', r.cluster.kubeconfig);
    const inCluster = await runJson('incluster-healthy', 'run', 'node', '--in-cluster', ...IMAGE, '--kubeconfig', r.cluster.kubeconfig);
    expect(inCluster.code, inCluster.stdout + inCluster.stderr).toBe(0);
    expect(triples(inCluster.run)).toEqual(triples(ssh.run));
    expect(reachedBy(inCluster.run)).toEqual({ cp1: 'in-cluster', w1: 'in-cluster', w2: 'in-cluster' });
    expect(reachedBy(ssh.run)).toEqual({ cp1: 'ssh', w1: 'ssh', w2: 'ssh' });
    // The same facts, not only the same verdicts: each host check says the same thing both ways (the clock's
    // offsets are measurements, and differ).
    for (const x of ssh.run.results.filter((y) => y.check !== 'fleet.clock-skew')) {
      expect(result(inCluster.run, x.check, x.target)?.message, `${x.target} ${x.check}`).toBe(x.message);
    }
    expect(inCluster.stderr).toMatch(/in-cluster: collector pods on 3 nodes in namespace kubecheck-collect-[0-9a-f]{6} \(10\.214\.0\.2:5000\/kubecheck\/collector:\d+\.\d+\.\d+\)/);
    expect(await collectorNamespaces()).toEqual([]);
  });

  it('one exec at a time: nodes after the first dial their registry ahead in the collector\'s own exec (fewer than two execs a node), with the same results as over SSH', async () => {
    const suite = join(r.cluster.dir, 'registry-suite.yaml');
    writeFileSync(suite, 'name: registry\nphase: post\nchecks: [node.registry, node.runtime]\n');
    const ssh = await runJson('incluster-ahead-ssh', 'run', suite, '-i', r.cluster.inventory, '--kubeconfig', r.cluster.kubeconfig);
    const json = join(r.cluster.dir, 'incluster-ahead.json');
    const out = await kubecheckWith({ env: { KUBECHECK_STATS: '1' }, timeoutMs: 300_000 }, 'run', suite, '--in-cluster', ...IMAGE, '--kubeconfig', r.cluster.kubeconfig, '--concurrency', '1', '--json', json);
    expect(out.code, out.stdout + out.stderr).toBe(0);
    const run = JSON.parse(readFileSync(json, 'utf8')) as RunResult;
    expect(triples(run)).toEqual(triples(ssh.run));
    // Every node reached the local registry, both ways.
    for (const node of ['cp1', 'w1', 'w2']) {
      expect(result(run, 'node.registry', node)?.message, node).toMatch(new RegExp(`reached ${REGISTRY.replace(/\./g, '\\.')}`));
      expect(result(run, 'node.registry', node)?.message, node).toBe(result(ssh.run, 'node.registry', node)?.message);
    }
    const stats = JSON.parse(out.stderr.split('\n').find((l) => l.startsWith('KUBECHECK_STATS '))!.slice('KUBECHECK_STATS '.length)) as { requests: Record<string, number> };
    // Without dials ahead: a collector exec and a dial exec per node (6). The first node's dial teaches the later ones.
    expect(stats.requests.EXEC).toBeGreaterThanOrEqual(4);
    expect(stats.requests.EXEC).toBeLessThanOrEqual(5);
    expect(await collectorNamespaces()).toEqual([]);
  });

  it('finds the same real faults both ways, also on a node NotReady for its pod network (its host-network pod still runs)', async () => {
    // w2 without crictl too: kubecheck then speaks the CRI to containerd's socket itself, over SSH through
    // sshd's streamlocal forwarding, in-cluster through kc-dial in the collector pod.
    const crictl = join(r.node('w2').dir, 'usr-local-bin', 'crictl');
    renameSync(crictl, `${crictl}.hidden`);
    try {
      await withFaults(r, [['w1', 'cni-config-missing'], ['w2', 'cni-plugin-missing']], faultRound);
    } finally {
      renameSync(`${crictl}.hidden`, crictl);
    }
    expect(await collectorNamespaces()).toEqual([]);
  });

  /** Runs both ways with the faults in place, and doctor from inside the cluster. */
  async function faultRound(): Promise<void> {
    // The kubelet sees the conflist gone: "cni plugin not initialized", the node turns NotReady.
    await waitNotReady(r, 'w1');
    const ssh = await runJson('incluster-faults-ssh', 'run', 'node', '-i', r.cluster.inventory, '--kubeconfig', r.cluster.kubeconfig);
    const inCluster = await runJson('incluster-faults', 'run', 'node', '--in-cluster', ...IMAGE, '--kubeconfig', r.cluster.kubeconfig);
    expect(triples(inCluster.run)).toEqual(triples(ssh.run));
    expect(reachedBy(inCluster.run)).toEqual({ cp1: 'in-cluster', w1: 'in-cluster', w2: 'in-cluster' });
    expect(result(inCluster.run, 'cni.config', 'w1')).toMatchObject({ status: 'fail', code: 'cni.config/missing' });
    expect(result(inCluster.run, 'cni.flannel-plugin', 'w2')).toMatchObject({ status: 'fail', code: 'cni.flannel-plugin/missing' });
    for (const run of [inCluster.run, ssh.run]) expect(result(run, 'node.runtime', 'w2')?.message).toMatch(/^runtime answers on \/run\/containerd\/containerd\.sock \(RuntimeName: containerd RuntimeVersion: \S+ \(CRI v1\)\)$/);
    expect(inCluster.code).toBe(1);

    // doctor from inside the cluster: the NotReady node's host evidence comes from its collector pod.
    const doctor = await runJson('incluster-doctor', 'doctor', 'w1', '--in-cluster', ...IMAGE, '--kubeconfig', r.cluster.kubeconfig);
    expect(doctor.run.diagnoses?.[0]).toMatchObject({ node: 'w1', cause: 'cni-config-missing', confidence: 'high' });
    expect(doctor.run.diagnoses?.[0].codes).toContain('cni.config/missing');
    expect(reachedBy(doctor.run)).toEqual({ w1: 'in-cluster' });
    expect(doctor.run.parameters?.sources).toBe('cluster+in-cluster');
  }

  it('a node whose kubelet is stopped cannot run the pod: one error saying so; with the inventory it is reached over SSH', async () => {
    await withFaults(r, [['w2', 'kubelet-down']], async () => {
      await waitFor('w2 Ready=Unknown', 90_000, async () => {
        const n = await r.api.getJson<{ status?: { conditions?: { type: string; status: string }[] } }>('/api/v1/nodes/w2');
        return n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'Unknown' || undefined;
      });
      const alone = await runJson('incluster-kubelet-down', 'run', 'node', '--in-cluster', ...IMAGE, '--kubeconfig', r.cluster.kubeconfig);
      expect(alone.code).toBe(1);
      const w2 = alone.run.results.filter((x) => x.target === 'w2');
      expect(w2.filter((x) => x.status === 'error')).toHaveLength(1);
      expect(w2.find((x) => x.status === 'error')!.message).toMatch(/^host not reached: node NotReady \(Ready=Unknown, NodeStatusUnknown: Kubelet stopped posting node status\.?\)$/);
      expect(w2.filter((x) => x.status !== 'error').every((x) => x.status === 'skip')).toBe(true);
      expect(alone.run.results.filter((x) => x.target !== 'w2' && x.status !== 'pass' && x.status !== 'skip')).toEqual([]);
      expect(reachedBy(alone.run)).toMatchObject({ cp1: 'in-cluster', w1: 'in-cluster' });

      const withInventory = await runJson('incluster-fallback', 'run', 'node', '--in-cluster', ...IMAGE, '-i', r.cluster.inventory, '--kubeconfig', r.cluster.kubeconfig);
      expect(reachedBy(withInventory.run)).toEqual({ cp1: 'in-cluster', w1: 'in-cluster', w2: 'ssh' });
      expect(result(withInventory.run, 'node.kubelet', 'w2')).toMatchObject({ status: 'fail' });
      expect(withInventory.code).toBe(1);
    });
    expect(await collectorNamespaces()).toEqual([]);
  });

  it('an image the nodes cannot pull: each node says so with the pull error, exit 3, nothing left behind', async () => {
    const missing = `${REGISTRY}/kubecheck/collector:does-not-exist`;
    const out = await runJson('incluster-pull', 'run', 'node', '--in-cluster', '--collector-image', missing, '--kubeconfig', r.cluster.kubeconfig, '--start-timeout', '90');
    expect(out.code, out.stdout).toBe(3);
    for (const node of ['cp1', 'w1', 'w2']) {
      const error = out.run.results.find((x) => x.target === node && x.status === 'error');
      expect(error?.message, node).toMatch(/^host not reached: the collector pod kubecheck-collector-\w+ cannot run: (ErrImagePull|ImagePullBackOff): .*does-not-exist/);
    }
    expect(await collectorNamespaces()).toEqual([]);
  });

  it('needs deploy/rbac/kubecheck-in-cluster.yaml: a denial naming the permission without it, the same results with it', async () => {
    const user = 'kubecheck-incluster';
    const kubeconfig = await userKubeconfig(r, user);
    const nothing = await kubecheck('run', 'node', '--in-cluster', ...IMAGE, '--kubeconfig', kubeconfig, '--only', 'node.*');
    expect(nothing.code).toBe(3);
    expect(nothing.stderr).toMatch(/in-cluster collection: cannot list nodes: .*nodes is forbidden: User "kubecheck-incluster" cannot list resource "nodes".*deploy\/rbac\/kubecheck-in-cluster\.yaml/);

    const roles = ['kubecheck-smoke.yaml', 'kubecheck-in-cluster.yaml'].map((f) => readFileSync(join(ROOT, 'deploy/rbac', f), 'utf8'));
    await createManifest(r.api, roles[0]);
    const unbind: (() => Promise<void>)[] = [await bindClusterRole(r, 'kubecheck-smoke', user)];
    try {
      // Nodes may be listed now (the smoke role), but not a namespace created: every node says so.
      await waitFor('the smoke role to apply', 15_000, async () => (await r.api.send<{ status: { allowed: boolean } }>('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { user, resourceAttributes: { verb: 'list', resource: 'nodes' } } })).status.allowed || undefined);
      const half = await runJson('incluster-rbac-half', 'run', 'node', '--in-cluster', ...IMAGE, '--kubeconfig', kubeconfig, '--only', 'node.*');
      expect(half.code).toBe(3);
      for (const node of ['cp1', 'w1', 'w2']) {
        expect(half.run.results.find((x) => x.target === node && x.status === 'error')?.message).toMatch(/^host not reached: in-cluster collection could not start: .*namespaces is forbidden: User "kubecheck-incluster" cannot create resource "namespaces".*deploy\/rbac\/kubecheck-in-cluster\.yaml/);
      }
      await createManifest(r.api, roles[1]);
      unbind.push(await bindClusterRole(r, 'kubecheck-in-cluster', user));
      await waitFor('the in-cluster role to apply', 15_000, async () => (await r.api.send<{ status: { allowed: boolean } }>('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { user, resourceAttributes: { verb: 'create', resource: 'pods', subresource: 'exec' } } })).status.allowed || undefined);
      const allowed = await runJson('incluster-rbac', 'run', 'node', '--in-cluster', ...IMAGE, '--kubeconfig', kubeconfig, '--only', 'node.*');
      const admin = await runJson('incluster-rbac-admin', 'run', 'node', '--in-cluster', ...IMAGE, '--kubeconfig', r.cluster.kubeconfig, '--only', 'node.*');
      expect(allowed.code, allowed.stdout).toBe(0);
      expect(triples(allowed.run)).toEqual(triples(admin.run));
    } finally {
      for (const u of unbind) await u();
      for (const text of roles) await deleteManifest(r.api, text);
    }
    expect(await collectorNamespaces()).toEqual([]);
  });

  it('Ctrl-C deletes the collection\'s namespace (exit 130); after a killed run, kubecheck cleanup does', async () => {
    // A registry that accepts connections and never answers: the pulls hang, the run waits for its pods.
    const hang = $({ quiet: true, nothrow: true })`ip netns exec kcr-mirror timeout 120 socat TCP-LISTEN:5001,fork,reuseaddr SYSTEM:${'sleep 100'}`;
    try {
      const image = '10.214.0.2:5001/kubecheck/collector:hangs';
      const start = () => {
        const child = spawn(process.execPath, [join(ROOT, 'bin/kubecheck.js'), 'run', 'node', '--in-cluster', '--collector-image', image, '--kubeconfig', r.cluster.kubeconfig, '--start-timeout', '300'], { env: { ...process.env, NO_COLOR: '1', CI: 'true' }, stdio: 'ignore' });
        return { child, exited: new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code))) };
      };
      expect(await collectorNamespaces()).toEqual([]);
      const interrupted = start();
      const ns = await waitFor('the collector namespace', 30_000, async () => (await collectorNamespaces())[0]);
      interrupted.child.kill('SIGINT');
      expect(await interrupted.exited).toBe(130);
      expect(await collectorNamespaces()).toEqual([]);
      expect((await r.api.request('GET', `/api/v1/namespaces/${ns}`)).status).toBe(404);

      const killed = start();
      const left = await waitFor('the collector namespace', 30_000, async () => (await collectorNamespaces())[0]);
      await waitFor('its pods', 30_000, async () => (await r.api.getJson<{ items: unknown[] }>(`/api/v1/namespaces/${left}/pods`)).items.length === 3 || undefined);
      killed.child.kill('SIGKILL');
      await killed.exited;
      expect(await collectorNamespaces()).toEqual([left]);
      const cleanup = await kubecheck('cleanup', '--kubeconfig', r.cluster.kubeconfig, '--timeout', '90');
      expect(cleanup.code, cleanup.stdout + cleanup.stderr).toBe(0);
      expect(cleanup.stdout).toContain(`deleting namespace ${left}`);
      expect(await collectorNamespaces()).toEqual([]);
    } finally {
      hang.kill();
    }
  });

  it('smoke --nodes: the cluster checks and every node\'s checks in one report, the nodes reached in-cluster', async () => {
    const out = await runJson('incluster-smoke', 'smoke', '--nodes', ...IMAGE, '--kubeconfig', r.cluster.kubeconfig);
    expect(out.run.results.filter((x) => x.status !== 'pass' && x.code !== 'node.services/not-applicable'), out.stdout).toEqual([]);
    expect(out.code).toBe(0);
    expect(out.run.suite).toBe('smoke+node');
    for (const check of ['cluster.apiserver', 'cluster.nodes', 'node.kubelet', 'cni.flannel-subnet', 'fleet.reachability']) expect(out.run.results.some((x) => x.check === check), check).toBe(true);
    expect(reachedBy(out.run)).toEqual({ cp1: 'in-cluster', w1: 'in-cluster', w2: 'in-cluster' });
    expect(await collectorNamespaces()).toEqual([]);
  });
});
