// Every object a workload scenario creates lives in a namespace of its own labelled
// app.kubernetes.io/managed-by=kubecheck; a run that was killed can leave one behind. `kubecheck cleanup`
// finds those namespaces and deletes them, waiting (bounded) until they are gone.
import { ApiError, type KubeApi } from '../k8s/api.js';

export const MANAGED_BY = { key: 'app.kubernetes.io/managed-by', value: 'kubecheck' };
export const MANAGED_SELECTOR = `${MANAGED_BY.key}=${MANAGED_BY.value}`;

export interface Leftover {
  name: string;
  createdAt?: string;
  phase?: string;
}

interface RawNamespace {
  metadata?: { name?: string; creationTimestamp?: string };
  status?: { phase?: string };
}

export async function findLeftovers(api: KubeApi, signal?: AbortSignal): Promise<Leftover[]> {
  const listed = await api.list<RawNamespace, Leftover>('/api/v1/namespaces', (n) => ({
    name: n.metadata?.name ?? '',
    ...(n.metadata?.creationTimestamp ? { createdAt: n.metadata.creationTimestamp } : {}),
    ...(n.status?.phase ? { phase: n.status.phase } : {}),
  }), { query: { labelSelector: MANAGED_SELECTOR }, ...(signal ? { signal } : {}) });
  if (!listed.ok) throw new ApiError(listed.forbidden ? 403 : 0, `cannot list namespaces labelled ${MANAGED_SELECTOR}: ${listed.detail}`);
  return listed.items;
}

/** Deletes the namespaces and waits until the API no longer has them (or the time is up). */
export async function removeLeftovers(api: KubeApi, leftovers: Leftover[], options: { timeoutMs: number; signal: AbortSignal }): Promise<{ removed: string[]; stuck: string[] }> {
  for (const ns of leftovers) {
    try {
      await api.send('DELETE', `/api/v1/namespaces/${ns.name}`, undefined, options.signal);
    } catch (err: unknown) {
      if (!(err instanceof ApiError && err.status === 404)) throw err;
    }
  }
  const deadline = Date.now() + options.timeoutMs;
  let remaining = new Set(leftovers.map((n) => n.name));
  while (remaining.size && Date.now() < deadline && !options.signal.aborted) {
    const still = new Set((await findLeftovers(api, options.signal)).map((n) => n.name));
    remaining = new Set([...remaining].filter((n) => still.has(n)));
    if (remaining.size) await new Promise((r) => setTimeout(r, 500));
  }
  return { removed: leftovers.map((n) => n.name).filter((n) => !remaining.has(n)), stuck: [...remaining] };
}
