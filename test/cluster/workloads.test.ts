// The workload scenarios against the real control plane: KWOK nodes and pods, KWOK's exec emulation with
// kwok-pods answering for the containers (README, "What KWOK emulates"). Each scenario runs its whole
// choreography through the API, and leaves nothing behind — after a pass, a failure, Ctrl-C; a killed
// run's namespace is found and removed by `kubecheck cleanup`.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createNodes, until } from '../../scripts/cluster-fixtures.js';
import { POD_VOLUME_SYNC_SECONDS } from '../../scripts/controlplane.js';
import { KubeApi } from '../../src/k8s/api.js';
import { findLeftovers } from '../../src/k8s/managed.js';
import type { RunResult } from '../../src/core/types.js';
import { ROOT } from '../helpers.js';
import { kubecheck } from './helpers.js';

const kubeconfig = inject('kubeconfig');
const clusterDir = inject('clusterDir');
const POOL = { 'kubecheck.dev/test-pool': 'workloads' };
let api: KubeApi;
const dir = mkdtempSync(join(tmpdir(), 'kubecheck-workloads-'));
const validateReport = new Ajv({ allErrors: true, strict: false, validateFormats: false }).compile(JSON.parse(readFileSync(join(ROOT, 'reporters/report.schema.json'), 'utf8')));

/** A suite file: the given checks, scenario pods pinned to this test's nodes unless `workloads` says otherwise. */
function suite(name: string, checks: unknown[], workloads: Record<string, unknown> = { nodeSelector: POOL }): string {
  const file = join(dir, `${name}.json`);
  // JSON is YAML: the suite loader takes it as it is.
  writeFileSync(file, JSON.stringify({ name, checks, workloads: { cleanupTimeout: 60, ...workloads } }));
  return file;
}

async function run(...args: string[]): Promise<{ code: number; report: RunResult; stdout: string }> {
  const json = join(dir, `report-${Math.random().toString(36).slice(2)}.json`);
  const out = await kubecheck(...args, ...(args.includes('--kubeconfig') ? [] : ['--kubeconfig', kubeconfig]), '--json', json);
  return { code: out.code, report: JSON.parse(readFileSync(json, 'utf8')) as RunResult, stdout: out.stdout };
}

const leftovers = async () => (await findLeftovers(api)).map((n) => n.name);
const stepNames = (r: RunResult, check: string) => r.results.find((x) => x.check === check)!.steps!.map((s) => `${s.status} ${s.name}`);

/** Starts the CLI without waiting, for the signal tests. */
function start(args: string[]): { exited: Promise<number | null>; signal: (s: NodeJS.Signals) => void } {
  const child = spawn(process.execPath, [join(ROOT, 'bin/kubecheck.js'), ...args], { env: { ...process.env, NO_COLOR: '1', CI: 'true' }, stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { exited, signal: (s) => child.kill(s) };
}

beforeAll(async () => {
  api = await KubeApi.connect({ kubeconfig });
  await createNodes(api, ['wl-1', 'wl-2'], 2, POOL);
  await until('the workload nodes to be Ready', 60_000, async () => {
    const nodes = await api.getJson<{ items: { status?: { conditions?: { type: string; status: string }[] } }[] }>(`/api/v1/nodes?labelSelector=${encodeURIComponent('kubecheck.dev/test-pool=workloads')}`);
    return nodes.items.length === 2 && nodes.items.every((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
  });
}, 90_000);

afterAll(async () => {
  for (const n of ['wl-1', 'wl-2']) await api.send('DELETE', `/api/v1/nodes/${n}`, undefined).catch(() => undefined);
});

describe('workload scenarios on the real control plane', () => {
  it('smoke --workloads runs all three; each passes through its whole choreography and leaves nothing behind', async () => {
    const file = suite('all', ['workload.canary', 'workload.configmap-reload', 'workload.secret-restart']);
    const { code, report, stdout } = await run('smoke', '--workloads', '--suite', file, '-v');
    expect(report.results.map((r) => [r.check, r.status])).toEqual([
      ['workload.canary', 'pass'],
      ['workload.configmap-reload', 'pass'],
      ['workload.secret-restart', 'pass'],
    ]);
    expect(code).toBe(0);
    expect(validateReport(report), JSON.stringify(validateReport.errors)).toBe(true);

    expect(stepNames(report, 'workload.canary')).toEqual([
      'pass create namespace',
      'pass create v1 (3), canary (1), Service and probe pod',
      'pass v1 and canary available',
      'pass Service endpoints hold all 4 pods',
      'pass probe pod ready',
      'pass every pod behind the Service answers',
      'pass traffic splits about 3:1 (100 requests from inside the cluster)',
      'pass promote: canary scaled to 3, v1 to 0',
      'pass Service endpoints hold only the canary',
      'pass only the canary serves',
      'pass delete namespace',
    ]);
    const canary = report.results.find((r) => r.check === 'workload.canary')!;
    const [, served, stable] = /canary answered (\d+) of 100 .*stable (\d+)/.exec(canary.message) ?? [];
    expect(Number(served) + Number(stable)).toBe(100);
    expect(Math.abs(Number(served) / 100 - 0.25)).toBeLessThanOrEqual(0.15);
    expect(canary.message).toContain('after promotion all 20 requests answered by the canary');

    // The measured delay is the emulated kubelet sync (kwok-pods), not an instant read.
    const reload = report.results.find((r) => r.check === 'workload.configmap-reload')!;
    const follows = reload.steps!.find((s) => s.name === 'volume file follows within 120 s')!;
    const delay = Number(/changed after ([\d.]+) s/.exec(follows.message ?? '')?.[1]);
    expect(delay).toBeGreaterThanOrEqual(POD_VOLUME_SYNC_SECONDS - 0.5);
    expect(delay).toBeLessThan(POD_VOLUME_SYNC_SECONDS + 10);
    expect(reload.steps!.find((s) => s.name.startsWith('subPath and env'))!.message).toBe('as documented: subPath mounts and env vars are not updated');

    const secret = report.results.find((r) => r.check === 'workload.secret-restart')!;
    expect(stepNames(report, 'workload.secret-restart')).toEqual([
      'pass create namespace',
      'pass create Secret and Deployment (2 replicas)',
      'pass Deployment available',
      'pass pods see the Secret',
      'pass change the Secret',
      'pass running pods keep the old value',
      'pass rollout restart completes',
      'pass new pods see the new value',
      'pass delete namespace',
    ]);
    expect(secret.message).toMatch(/rollout restart completed in [\d.]+ s and the 2 new pods see the new value/);
    // The made-up secret values (24 hex characters) are never printed.
    expect(JSON.stringify(report)).not.toMatch(/[0-9a-f]{24}/);
    expect(stdout).toContain('✓ volume file follows within 120 s');
    expect(await leftovers()).toEqual([]);
  }, 240_000);

  it('smoke runs the scenarios only with --workloads; run smoke --only picks one alone', async () => {
    const file = suite('mixed', ['cluster.apiserver', 'workload.configmap-reload']);
    const plain = await run('smoke', '--suite', file);
    expect(plain.report.results.map((r) => r.check)).toEqual(['cluster.apiserver']);
    const alone = await run('run', file, '--only', 'workload.configmap-reload');
    expect(alone.report.results.map((r) => [r.check, r.status])).toEqual([['workload.configmap-reload', 'pass']]);
    expect(await leftovers()).toEqual([]);
  }, 120_000);

  it('a canary whose pods cannot be scheduled fails at the rollout step with the reason and evidence (again with --retries), and is cleaned up', async () => {
    const file = suite('unschedulable', [{ id: 'workload.canary', params: { timeouts: { rollout: 5 } } }], { nodeSelector: { 'kubecheck.dev/test-pool': 'none' } });
    const { code, report } = await run('run', file, '--retries', '1');
    expect(code).toBe(1);
    const r = report.results[0];
    expect(r.status).toBe('fail');
    expect(r.attempts).toBe(2);
    expect(r.message).toMatch(/^step "v1 and canary available" failed: timed out after 5\.\d s waiting for the rollout; last seen: web-v1: 0\/3 available/);
    expect(r.evidence?.events).toMatch(/FailedScheduling Pod\/web-v1-.*didn't match Pod's node affinity\/selector/);
    expect(r.evidence?.pods).toMatch(/web-canary-\S+: Pending, not scheduled/);
    expect(stepNames(report, 'workload.canary')).toEqual([
      'pass create namespace',
      'pass create v1 (3), canary (1), Service and probe pod',
      'fail v1 and canary available',
      'pass delete namespace',
    ]);
    expect(await leftovers()).toEqual([]);
  }, 120_000);

  it('a ConfigMap change slower than the propagation window fails at that step', async () => {
    const file = suite('slow', [{ id: 'workload.configmap-reload', params: { propagationWindow: 1 } }]);
    const { code, report } = await run('run', file);
    expect(code).toBe(1);
    expect(report.results[0].status).toBe('fail');
    expect(report.results[0].message).toBe('step "volume file follows within 1 s" failed: the mounted file still had the old value 1 s after the change (kubelet sync period + ConfigMap cache TTL)');
    expect(await leftovers()).toEqual([]);
  }, 120_000);

  it('Ctrl-C in the middle of a scenario still removes its namespace (exit 130)', async () => {
    const file = suite('interrupted', ['workload.secret-restart'], { nodeSelector: { 'kubecheck.dev/test-pool': 'none' } });
    const json = join(dir, 'interrupted.json');
    const cli = start(['run', file, '--kubeconfig', kubeconfig, '--json', json]);
    await until('the scenario namespace to exist', 30_000, async () => (await leftovers()).length === 1);
    cli.signal('SIGINT');
    expect(await cli.exited).toBe(130);
    const report = JSON.parse(readFileSync(json, 'utf8')) as RunResult;
    expect(report.interrupted).toBe(true);
    expect(report.results[0]).toMatchObject({ check: 'workload.secret-restart', status: 'error' });
    expect(report.results[0].message).toMatch(/^interrupted during step "(create Secret and Deployment \(2 replicas\)|Deployment available)"$/);
    expect(report.results[0].steps!.at(-1)).toMatchObject({ name: 'delete namespace', status: 'pass' });
    expect(await leftovers()).toEqual([]);
  }, 120_000);

  it('kubecheck cleanup finds and removes the namespace of a killed run', async () => {
    const file = suite('killed', ['workload.secret-restart'], { nodeSelector: { 'kubecheck.dev/test-pool': 'none' } });
    const cli = start(['run', file, '--kubeconfig', kubeconfig]);
    await until('the scenario namespace to exist', 30_000, async () => (await leftovers()).length === 1);
    const [left] = await leftovers();
    cli.signal('SIGKILL');
    await cli.exited;
    expect(await leftovers()).toEqual([left]);
    const out = await kubecheck('cleanup', '--kubeconfig', kubeconfig, '--timeout', '60');
    expect(out.code).toBe(0);
    expect(out.stdout).toContain(`deleting namespace ${left}`);
    expect(out.stdout).toContain('removed 1 namespace');
    expect(await leftovers()).toEqual([]);
  }, 120_000);

  it('scenarios need deploy/rbac/kubecheck-scenarios.yaml: without it a clear denial, with it a pass', async () => {
    const restricted = join(clusterDir, 'restricted.kubeconfig');
    const file = suite('rbac', ['workload.configmap-reload']);
    const denied = await run('run', file, '--kubeconfig', restricted);
    expect(denied.code).toBe(1);
    expect(denied.report.results[0].status).toBe('error');
    expect(denied.report.results[0].message).toMatch(/^step "create namespace" could not run: denied: .*namespaces is forbidden: User "kubecheck-restricted" cannot create resource "namespaces".*deploy\/rbac\/kubecheck-scenarios\.yaml/);

    const role = parseAllDocuments(readFileSync(join(ROOT, 'deploy/rbac/kubecheck-scenarios.yaml'), 'utf8'))[0].toJS() as { metadata: { name: string }; rules: { resources: string[] }[] };
    // First the role without pods/exec: the scenario gets as far as reading inside the pod, then says why it stops.
    const noExec = { ...role, rules: role.rules.filter((r) => !r.resources.includes('pods/exec')) };
    await api.send('POST', '/apis/rbac.authorization.k8s.io/v1/clusterroles', noExec);
    await api.send('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'kubecheck-scenarios-test' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata.name },
      subjects: [{ kind: 'User', name: 'kubecheck-restricted', apiGroup: 'rbac.authorization.k8s.io' }],
    });
    try {
      const withoutExec = await run('run', file, '--kubeconfig', restricted);
      expect(withoutExec.report.results[0].status).toBe('error');
      expect(withoutExec.report.results[0].message).toMatch(/^step "pod sees the value three ways" could not run: denied: exec in kubecheck-configmap-reload-\w+\/reader \(reader\): HTTP 403: the user may not create pods\/exec/);
      const current = await api.getJson<{ metadata: { resourceVersion: string } }>(`/apis/rbac.authorization.k8s.io/v1/clusterroles/${role.metadata.name}`);
      await api.send('PUT', `/apis/rbac.authorization.k8s.io/v1/clusterroles/${role.metadata.name}`, { ...role, metadata: { ...role.metadata, resourceVersion: current.metadata.resourceVersion } });
      await until('the full role to apply', 10_000, async () => (await kubecheck('cleanup', '--kubeconfig', restricted, '--dry-run')).code === 0);
      const allowed = await run('run', file, '--kubeconfig', restricted);
      expect(allowed.report.results[0].status, allowed.report.results[0].message).toBe('pass');
      expect(allowed.code).toBe(0);
    } finally {
      await api.send('DELETE', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/kubecheck-scenarios-test', undefined);
      await api.send('DELETE', `/apis/rbac.authorization.k8s.io/v1/clusterroles/${role.metadata.name}`, undefined);
    }
    expect(await leftovers()).toEqual([]);
  }, 120_000);
});
