import { randomBytes } from 'node:crypto';
import type { WorkloadCheck } from '../../src/core/types.js';
import type { KubeApi } from '../../src/k8s/api.js';
import { ExpectationFailed, runScenario, SCENARIO_CODES } from '../../src/scenarios/engine.js';
import { ExecError } from '../../src/k8s/exec.js';
import { loadManifests, pick, withImage, type Manifest } from '../../src/scenarios/manifests.js';
import { imageParam, timeoutsParam } from './params.js';
import { waitPodReady } from '../../src/scenarios/waits.js';

const MANIFESTS = 'checks/workloads/configmap-reload.yaml';

interface Params {
  image?: string;
  propagationWindow?: number;
  timeouts?: { ready?: number };
}

/** The three views of the key, one per line: the volume file, the subPath file, the env var. */
const READ = 'printf "%s\\n%s\\n%s\\n" "$(cat config/value)" "$(cat subpath-value)" "$VALUE"';
// Blocks inside the container until the volume file holds $1: the wait happens where the file is.
const AWAIT = 'while [ "$(cat config/value 2>/dev/null)" != "$1" ]; do sleep 1; done; echo changed';

export const configmapReload: WorkloadCheck<KubeApi> = {
  id: 'workload.configmap-reload',
  title: 'A ConfigMap change reaches mounted volumes in time (subPath and env keep the old value)',
  area: 'workload',
  kind: 'workload',
  codes: SCENARIO_CODES,
  manifests: MANIFESTS,
  why: 'Apps that hot-reload configuration depend on the kubelet refreshing ConfigMap volumes (within its sync period plus cache TTL, about a minute by default). subPath mounts and environment variables are never refreshed: only a restart brings the new value, which surprises many. This changes a ConfigMap under a running pod and measures both.',
  remediation: 'If the volume file never changes: check the kubelet on the pod\'s node (journalctl -u kubelet: "failed to sync configmap cache"), its --sync-frequency and configMapAndSecretChangeDetectionStrategy in /var/lib/kubelet/config.yaml, and that the ConfigMap is not immutable. Values read through subPath or env need a pod restart (kubectl rollout restart).',
  params: {
    type: 'object',
    additionalProperties: false,
    properties: {
      image: imageParam('image of the reading pod; needs sh, cat, sleep (default busybox:1.36)'),
      propagationWindow: { type: 'integer', minimum: 1, description: 'seconds the volume file may take to change: kubelet sync period + cache TTL (default 120)' },
      timeouts: timeoutsParam({ ready: 'seconds for the pod to become ready (default 180)' }),
    },
  },
  run: (ctx) => runScenario('workload.configmap-reload', ctx, async (s) => {
    const p = ctx.params as Params;
    const window = p.propagationWindow ?? 120;
    const before = `before-${randomBytes(4).toString('hex')}`;
    const after = `after-${randomBytes(4).toString('hex')}`;
    const all = loadManifests(MANIFESTS);
    const config = structuredClone(pick(all, 'ConfigMap', 'app-config')) as Manifest & { data: Record<string, string> };
    config.data = { value: before };
    const pod = withImage(pick(all, 'Pod', 'reader'), p.image);
    const read = async (signal: AbortSignal) => {
      const out = await s.exec('reader', 'reader', READ, [], signal);
      if (out.exitCode !== 0) throw new ExpectationFailed(`reading the values in the pod exited ${out.exitCode}: ${out.stderr.trim().slice(0, 200)}`);
      const [volume = '', subPath = '', env = ''] = out.stdout.split('\n');
      return { volume, subPath, env };
    };
    const name = (v: string) => (v === before ? 'the old value' : v === after ? 'the new value' : v === '' ? 'nothing' : `'${v.slice(0, 40)}'`);

    await s.step('create ConfigMap and pod (volume, subPath, env)', s.quick, async (signal) => {
      await s.create([config, pod], signal);
    });
    await s.step('pod ready', p.timeouts?.ready ?? 180, async (signal) => waitPodReady(s, 'reader', signal));
    await s.step('pod sees the value three ways', s.quick, async (signal) => {
      const v = await read(signal);
      const wrong = Object.entries(v).filter(([, x]) => x !== before);
      if (wrong.length) throw new ExpectationFailed(`before the change: ${wrong.map(([k, x]) => `${k} shows ${name(x)}`).join(', ')}`);
    });
    const changedAt = await s.step('change the ConfigMap', s.quick, async (signal) => {
      await s.patch(`/api/v1/namespaces/${s.namespace}/configmaps/app-config`, { data: { value: after } }, signal);
      return { value: performance.now() };
    });
    const delay = await s.step(`volume file follows within ${window} s`, window + 30, async (signal) => {
      const remaining = window * 1000 - (performance.now() - changedAt);
      try {
        await s.exec('reader', 'reader', AWAIT, [after], signal, Math.max(remaining, 1000));
      } catch (err: unknown) {
        if (err instanceof ExecError && err.timedOut) throw new ExpectationFailed(`the mounted file still had the old value ${window} s after the change (kubelet sync period + ConfigMap cache TTL)`);
        throw err;
      }
      const seconds = (performance.now() - changedAt) / 1000;
      return { note: `changed after ${seconds.toFixed(1)} s`, value: seconds };
    });
    const kept = await s.step('subPath and env keep the old value (documented)', s.quick, async (signal) => {
      const v = await read(signal);
      const notes: string[] = [];
      if (v.subPath === before && v.env === before) return { note: 'as documented: subPath mounts and env vars are not updated', value: 'subPath and env kept the old value (documented behaviour)' };
      if (v.subPath !== before) notes.push(`subPath shows ${name(v.subPath)}`);
      if (v.env !== before) notes.push(`env shows ${name(v.env)}`);
      // Not a failure of the cluster: it is reported so nobody relies on either behaviour.
      return { note: `unlike documented kubelet behaviour: ${notes.join(', ')}`, value: `unlike documented kubelet behaviour ${notes.join(', ')}` };
    });
    return `volume file updated ${delay.toFixed(1)} s after the change (window ${window} s); ${kept}`;
  }),
};
