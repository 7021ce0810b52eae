import type { WorkloadCheck } from '../../src/core/types.js';
import type { KubeApi } from '../../src/k8s/api.js';
import { ExpectationFailed, runScenario, type Scenario, SCENARIO_CODES } from '../../src/scenarios/engine.js';
import { loadManifests, pick, withImage } from '../../src/scenarios/manifests.js';
import { imageParam, timeoutsParam } from './params.js';
import { readyPods, waitEndpoints, waitPodReady, waitRolledOut } from '../../src/scenarios/waits.js';

const MANIFESTS = 'checks/workloads/canary.yaml';

interface Params {
  stableImage?: string;
  canaryImage?: string;
  probeImage?: string;
  requests?: number;
  tolerance?: number;
  timeouts?: { rollout?: number; endpoints?: number; traffic?: number };
}

const STABLE = 3;
const CANARY = 1;

/** Sends `n` requests to the Service from the probe pod; each answer is the name of the pod that served it. */
async function probe(s: Scenario, n: number, signal: AbortSignal, timeoutMs: number): Promise<{ answers: string[]; failed: number; detail: string }> {
  // busybox wget; an unanswered request prints a marker so it is counted, not lost. Bounded by `timeout`
  // rather than wget's own -T, which crashes Debian's busybox-static 1.35 (SIGSEGV on every request).
  const script = 'i=0; while [ "$i" -lt "$1" ]; do timeout 3 wget -q -O - "http://$2/" 2>/tmp/kubecheck-wget.err || { echo "!failed"; cat /tmp/kubecheck-wget.err >&2; }; i=$((i+1)); done';
  const out = await s.exec('probe', 'probe', script, [String(n), 'web'], signal, timeoutMs);
  const lines = out.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
  const failed = lines.filter((l) => l === '!failed').length;
  return { answers: lines.filter((l) => l !== '!failed'), failed, detail: out.stderr.trim().split('\n').slice(-3).join('; ') };
}

/** Rounds of requests until one gets every request answered (kube-proxy may lag the endpoints a little). */
async function answeredRound(s: Scenario, n: number, signal: AbortSignal, timeoutMs: number): Promise<string[]> {
  for (;;) {
    const round = await probe(s, n, signal, timeoutMs);
    if (round.failed === 0 && round.answers.length === n) return round.answers;
    if (!signal.aborted) await new Promise((r) => setTimeout(r, 1000));
    if (signal.aborted) throw new ExpectationFailed(`${round.failed} of ${n} requests to Service web got no answer${round.detail ? ` (${round.detail})` : ''}`);
  }
}

/**
 * Judges who answered: every answer from a pod behind the Service, and the canary's share within
 * `tolerance` of what its replicas predict.
 */
export function judgeSplit(answers: readonly string[], tracks: ReadonlyMap<string, string>, expected: number, tolerance: number): { ok: boolean; text: string } {
  const count = (track: string) => answers.filter((a) => tracks.get(a) === track).length;
  const c = count('canary');
  const st = count('stable');
  const strangers = [...new Set(answers.filter((a) => !tracks.has(a)))];
  if (strangers.length) return { ok: false, text: `${answers.length - c - st} answers came from pods that are not behind the Service (${strangers.slice(0, 3).join(', ')})` };
  const share = answers.length ? c / answers.length : 0;
  const text = `canary answered ${c} of ${answers.length} (${Math.round(share * 100)}%, expected ${Math.round(expected * 100)}% ± ${Math.round(tolerance * 100)}%), stable ${st}`;
  return { ok: answers.length > 0 && Math.abs(share - expected) <= tolerance + 1e-9, text };
}

export const canary: WorkloadCheck<KubeApi> = {
  id: 'workload.canary',
  title: 'A canary release behind one Service splits traffic and can be promoted',
  area: 'workload',
  kind: 'workload',
  codes: SCENARIO_CODES,
  manifests: MANIFESTS,
  why: 'Canary releases rely on a Service selecting pods of two Deployments by a shared label, kube-proxy spreading requests over every ready endpoint, and scaling moving traffic. This runs that release: v1 (3 replicas) and a canary (1) behind one Service, requests from inside the cluster, then the canary promoted to 3 and v1 scaled to 0.',
  remediation: 'Read the failing step and its evidence: pods Pending (FailedScheduling: resources, taints, node selector), ImagePullBackOff (set workloads.imageRegistry to a mirror, or --image-registry), endpoints missing (readiness probe failing, Service selector), requests unanswered or all going to one track (kube-proxy not running or its rules stale on the probe\'s node: kubectl -n kube-system logs ds/kube-proxy; CNI: pods on different nodes cannot reach each other).',
  params: {
    type: 'object',
    additionalProperties: false,
    properties: {
      stableImage: imageParam('image of the v1 Deployment (default nginx:1.22)'),
      canaryImage: imageParam('image of the canary Deployment (default nginx:1.23)'),
      probeImage: imageParam('image of the pod that sends the requests; needs sh, timeout and wget (default busybox:1.36)'),
      requests: { type: 'integer', minimum: 20, maximum: 2000, description: 'requests sent to judge the split (default 100)' },
      tolerance: { type: 'number', exclusiveMinimum: 0, maximum: 0.5, description: 'how far the canary\'s share may be from 1/4 (default 0.15)' },
      timeouts: timeoutsParam({
        rollout: 'seconds for the Deployments to roll out, each time (default 180)',
        endpoints: 'seconds for the Service endpoints to match the pods (default 60)',
        traffic: 'seconds for a round of requests to be answered (default 120)',
      }),
    },
  },
  run: (ctx) => runScenario('workload.canary', ctx, async (s) => {
    const p = ctx.params as Params;
    const n = p.requests ?? 100;
    const tolerance = p.tolerance ?? 0.15;
    const t = { rollout: 180, endpoints: 60, traffic: 120, ...(p.timeouts ?? {}) };
    const all = loadManifests(MANIFESTS);
    const manifests = [
      pick(all, 'ConfigMap', 'web-conf'),
      withImage(pick(all, 'Deployment', 'web-v1'), p.stableImage),
      withImage(pick(all, 'Deployment', 'web-canary'), p.canaryImage),
      pick(all, 'Service', 'web'),
      withImage(pick(all, 'Pod', 'probe'), p.probeImage),
    ];
    await s.step('create v1 (3), canary (1), Service and probe pod', s.quick, async (signal) => {
      await s.create(manifests, signal);
    });
    await s.step('v1 and canary available', t.rollout, async (signal) => {
      await waitRolledOut(s, { 'web-v1': STABLE, 'web-canary': CANARY }, signal);
    });
    const tracks = await s.step('Service endpoints hold all 4 pods', t.endpoints, async (signal) => {
      const pods = await readyPods(s, 'app=web', signal);
      const byTrack = (track: string) => pods.filter((x) => x.metadata?.labels?.track === track).map((x) => x.metadata?.name ?? '');
      const stable = byTrack('stable');
      const canaryPods = byTrack('canary');
      if (stable.length !== STABLE || canaryPods.length !== CANARY) {
        throw new ExpectationFailed(`the Service's selector app=web matches ${stable.length} stable and ${canaryPods.length} canary ready pods, expected ${STABLE} and ${CANARY}`);
      }
      await waitEndpoints(s, 'web', [...stable, ...canaryPods], signal);
      return { note: `${stable.length} stable + ${canaryPods.length} canary`, value: new Map([...stable.map((x) => [x, 'stable'] as const), ...canaryPods.map((x) => [x, 'canary'] as const)]) };
    });
    await s.step('probe pod ready', t.rollout, async (signal) => {
      await waitPodReady(s, 'probe', signal);
    });
    // The endpoints are in the API before kube-proxy has programmed them on the probe's node: judge the
    // split only once every pod behind the Service has answered at least once.
    await s.step('every pod behind the Service answers', t.traffic, async (signal) => {
      const seen = new Set<string>();
      for (let round = 1; ; round++) {
        for (const a of await answeredRound(s, 20, signal, t.traffic * 1000)) seen.add(a);
        const missing = [...tracks.keys()].filter((pod) => !seen.has(pod));
        if (missing.length === 0) return `all ${tracks.size} answered${round > 1 ? ` (after ${round} rounds of 20)` : ''}`;
        if (signal.aborted) throw new ExpectationFailed(`${missing.join(', ')} never answered a request to Service web (kube-proxy on the probe's node has not programmed them)`);
        await new Promise((r) => setTimeout(r, 500));
      }
    });
    const expected = CANARY / (STABLE + CANARY);
    const split = await s.step(`traffic splits about 3:1 (${n} requests from inside the cluster)`, t.traffic, async (signal) => {
      const answers = await answeredRound(s, n, signal, t.traffic * 1000);
      const verdict = judgeSplit(answers, tracks, expected, tolerance);
      if (!verdict.ok) throw new ExpectationFailed(verdict.text);
      const text = verdict.text;
      return { note: text, value: text };
    });
    await s.step('promote: canary scaled to 3, v1 to 0', t.rollout, async (signal) => {
      const deployments = `/apis/apps/v1/namespaces/${s.namespace}/deployments`;
      await s.patch(`${deployments}/web-canary`, { spec: { replicas: STABLE } }, signal);
      await s.patch(`${deployments}/web-v1`, { spec: { replicas: 0 } }, signal);
      await waitRolledOut(s, { 'web-canary': STABLE, 'web-v1': 0 }, signal);
    });
    const canaryTracks = await s.step('Service endpoints hold only the canary', t.endpoints, async (signal) => {
      const pods = (await readyPods(s, 'app=web,track=canary', signal)).map((x) => x.metadata?.name ?? '');
      if (pods.length !== STABLE) throw new ExpectationFailed(`${pods.length} canary pods ready after scaling to ${STABLE}`);
      await waitEndpoints(s, 'web', pods, signal);
      return { value: new Set(pods) };
    });
    const converged = await s.step('only the canary serves', t.traffic, async (signal) => {
      const started = performance.now();
      for (let round = 1; ; round++) {
        const answers = await answeredRound(s, 20, signal, t.traffic * 1000);
        const stray = answers.filter((a) => !canaryTracks.has(a));
        if (stray.length === 0) {
          const ms = Math.round(performance.now() - started);
          const text = `all 20 requests answered by the canary${round > 1 ? ` after ${round} rounds (${(ms / 1000).toFixed(1)} s)` : ''}`;
          return { note: text, value: text };
        }
        if (signal.aborted) throw new ExpectationFailed(`requests still answered by ${[...new Set(stray)].join(', ')} (not the promoted canary)`);
        await new Promise((r) => setTimeout(r, 1000));
      }
    });
    return `${tracks.size} pods behind the Service; ${split}; after promotion ${converged}`;
  }),
};
