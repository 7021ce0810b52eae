import { randomBytes } from 'node:crypto';
import type { WorkloadCheck } from '../../src/core/types.js';
import type { KubeApi } from '../../src/k8s/api.js';
import { ExpectationFailed, runScenario, type Scenario, SCENARIO_CODES } from '../../src/scenarios/engine.js';
import { loadManifests, pick, withImage, type Manifest } from '../../src/scenarios/manifests.js';
import { imageParam, timeoutsParam } from './params.js';
import { readyPods, waitRolledOut } from '../../src/scenarios/waits.js';

const MANIFESTS = 'checks/workloads/secret-restart.yaml';

interface Params {
  image?: string;
  replicas?: number;
  timeouts?: { rollout?: number };
}

/**
 * What each pod's TOKEN is, compared with the two values without printing either: secrets never appear
 * in kubecheck's output, even made-up ones.
 */
async function tokens(s: Scenario, pods: string[], values: { old: string; new: string }, signal: AbortSignal): Promise<Map<string, 'old' | 'new' | 'other'>> {
  const seen = new Map<string, 'old' | 'new' | 'other'>();
  for (const pod of pods) {
    const out = await s.exec(pod, 'reader', 'printf "%s" "$TOKEN"', [], signal);
    if (out.exitCode !== 0) throw new ExpectationFailed(`reading TOKEN in ${pod} exited ${out.exitCode}`);
    seen.set(pod, out.stdout === values.old ? 'old' : out.stdout === values.new ? 'new' : 'other');
  }
  return seen;
}

const describe = (seen: Map<string, string>, want: string) =>
  [...seen].filter(([, v]) => v !== want).map(([pod, v]) => `${pod} sees ${v === 'other' ? 'neither value' : `the ${v} value`}`).join(', ');

export const secretRestart: WorkloadCheck<KubeApi> = {
  id: 'workload.secret-restart',
  title: 'A Secret change reaches a Deployment after `rollout restart`',
  area: 'workload',
  kind: 'workload',
  codes: SCENARIO_CODES,
  manifests: MANIFESTS,
  why: 'Credentials are rotated by changing a Secret and restarting the Deployment that reads it through secretKeyRef: running pods keep the value they started with, new pods must get the new one, and the rollout must complete. This rotates a Secret under a running Deployment and times the restart.',
  remediation: 'Read the failing step: a rollout that does not complete shows why in its evidence (pods Pending: capacity or node selector; ImagePullBackOff: registry; CreateContainerConfigError: the Secret or key is missing). New pods with the old value mean the Secret change did not land (check its namespace/name) — `kubectl rollout status deploy/NAME` and `kubectl describe pod` show the rest.',
  params: {
    type: 'object',
    additionalProperties: false,
    properties: {
      image: imageParam('image of the reading pods; needs sh and printf (default busybox:1.36)'),
      replicas: { type: 'integer', minimum: 1, maximum: 10, description: 'replicas of the Deployment (default 2)' },
      timeouts: timeoutsParam({ rollout: 'seconds for each rollout (default 180)' }),
    },
  },
  run: (ctx) => runScenario('workload.secret-restart', ctx, async (s) => {
    const p = ctx.params as Params;
    const replicas = p.replicas ?? 2;
    const rollout = p.timeouts?.rollout ?? 180;
    const values = { old: randomBytes(12).toString('hex'), new: randomBytes(12).toString('hex') };
    const all = loadManifests(MANIFESTS);
    const secret = structuredClone(pick(all, 'Secret', 'app-secret')) as Manifest & { stringData: Record<string, string> };
    secret.stringData = { token: values.old };
    const deployment = withImage(pick(all, 'Deployment', 'reader'), p.image) as Manifest & { spec: { replicas: number } };
    deployment.spec.replicas = replicas;
    const deployments = `/apis/apps/v1/namespaces/${s.namespace}/deployments`;
    const podNames = async (signal: AbortSignal) => (await readyPods(s, 'app=reader', signal)).map((x) => x.metadata?.name ?? '');

    await s.step(`create Secret and Deployment (${replicas} replicas)`, s.quick, async (signal) => {
      await s.create([secret, deployment], signal);
    });
    const first = await s.step('Deployment available', rollout, async (signal) => {
      await waitRolledOut(s, { reader: replicas }, signal);
      return { value: await podNames(signal) };
    });
    await s.step('pods see the Secret', s.quick, async (signal) => {
      const bad = describe(await tokens(s, first, values, signal), 'old');
      if (bad) throw new ExpectationFailed(bad);
    });
    await s.step('change the Secret', s.quick, async (signal) => {
      await s.patch(`/api/v1/namespaces/${s.namespace}/secrets/app-secret`, { stringData: { token: values.new } }, signal);
    });
    await s.step('running pods keep the old value', s.quick, async (signal) => {
      const bad = describe(await tokens(s, first, values, signal), 'old');
      if (bad) throw new ExpectationFailed(`env from a Secret changed without a restart: ${bad}`);
      return 'as documented: env vars are fixed when the container starts';
    });
    const took = await s.step('rollout restart completes', rollout, async (signal) => {
      const started = performance.now();
      await s.patch(`${deployments}/reader`, { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': ctx.now().toISOString() } } } } }, signal);
      await waitRolledOut(s, { reader: replicas }, signal);
      const seconds = (performance.now() - started) / 1000;
      return { note: `${seconds.toFixed(1)} s`, value: seconds };
    });
    await s.step('new pods see the new value', s.quick, async (signal) => {
      const now = (await podNames(signal)).filter((x) => !first.includes(x));
      if (now.length !== replicas) throw new ExpectationFailed(`${now.length} new ready pods after the restart, expected ${replicas}`);
      const bad = describe(await tokens(s, now, values, signal), 'new');
      if (bad) throw new ExpectationFailed(bad);
      return `${now.length} new pods`;
    });
    return `running pods kept the old value; rollout restart completed in ${took.toFixed(1)} s and the ${replicas} new pods see the new value`;
  }),
};
