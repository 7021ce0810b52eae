// Everything kubecheck creates in a cluster — a workload scenario's objects, the in-cluster collector's
// DaemonSet — lives in a namespace of its own labelled app.kubernetes.io/managed-by=kubecheck; a run that
// was killed can leave one behind. `kubecheck cleanup` finds those namespaces and deletes them, waiting
// (bounded) until they are gone.
import { ApiError, type KubeApi } from './api.js';
import { deadline } from '../core/pool.js';

export const MANAGED_BY = { key: 'app.kubernetes.io/managed-by', value: 'kubecheck' };
export const MANAGED_SELECTOR = `${MANAGED_BY.key}=${MANAGED_BY.value}`;
/** The label that marks an in-cluster collection's namespace (its pods only ran `sleep`). */
export const COLLECTOR_LABEL = 'kubecheck.dev/collector';

export interface Leftover {
  name: string;
  createdAt?: string;
  phase?: string;
  /** An in-cluster collection's namespace: its pods are deleted at once (see removeLeftovers). */
  collector?: boolean;
}

interface RawNamespace {
  metadata?: { name?: string; creationTimestamp?: string; resourceVersion?: string; labels?: Record<string, string> };
  status?: { phase?: string; conditions?: { type?: string; status?: string; reason?: string; message?: string }[] };
}

export async function findLeftovers(api: KubeApi, signal?: AbortSignal): Promise<Leftover[]> {
  const listed = await api.list<RawNamespace, Leftover>('/api/v1/namespaces', (n) => ({
    name: n.metadata?.name ?? '',
    ...(n.metadata?.creationTimestamp ? { createdAt: n.metadata.creationTimestamp } : {}),
    ...(n.status?.phase ? { phase: n.status.phase } : {}),
    ...(n.metadata?.labels?.[COLLECTOR_LABEL] ? { collector: true } : {}),
  }), { query: { labelSelector: MANAGED_SELECTOR }, ...(signal ? { signal } : {}) });
  if (!listed.ok) throw new ApiError(listed.forbidden ? 403 : 0, `cannot list namespaces labelled ${MANAGED_SELECTOR}: ${listed.detail}`);
  return listed.items;
}

/** What holds a terminating namespace, from the namespace controller ("NamespaceContentRemaining: …"). */
function holding(ns: RawNamespace | undefined): string {
  const held = (ns?.status?.conditions ?? []).filter((c) => c.status === 'True').map((c) => `${c.reason ?? c.type}: ${c.message ?? ''}`.trim());
  return held.join('; ');
}

/**
 * Deletes the namespaces (already gone is fine) and follows them through a watch until the API no
 * longer has them, the time is up or `signal` aborts. A namespace still there is returned with what
 * holds it. Used by `kubecheck cleanup`, by every scenario's last step and by the in-cluster collection.
 *
 * A collector namespace's pods are deleted at once (grace period 0, like `kubectl delete --force`), after
 * its DaemonSet (orphaning them, so that it makes no new ones and nothing deletes them gracefully meanwhile)
 * and before the namespace: a pod on a node whose kubelet is down never finishes terminating and would hold
 * the namespace forever, and a namespace whose pods are already gone is finalized on the controller's first
 * pass instead of after its retries. They only ran `sleep`; the kubelet removes the container when it
 * comes back.
 */
export async function removeLeftovers(api: KubeApi, leftovers: readonly Pick<Leftover, 'name' | 'collector'>[], options: { timeoutMs: number; signal: AbortSignal }): Promise<{ removed: string[]; stuck: { name: string; holding: string }[] }> {
  for (const ns of leftovers) {
    if (ns.collector) {
      const gone = (err: unknown) => {
        if (!(err instanceof ApiError && err.status === 404)) throw err;
      };
      await api.send('DELETE', `/apis/apps/v1/namespaces/${ns.name}/daemonsets`, { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Orphan' }, options.signal).catch(gone);
      // Best effort: thousands of pods take the API server longer than one request may last (its own
      // deadline answers 500, or it drops the connection), and the namespace's deletion, sent next
      // whatever happened here, finishes the job; what still holds the namespace is reported below.
      await api.request('DELETE', `/api/v1/namespaces/${ns.name}/pods`, {
        body: JSON.stringify({ kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0 }),
        timeoutMs: Math.floor(options.timeoutMs / 2),
        signal: options.signal,
      }).catch((err: unknown) => {
        if (options.signal.aborted) throw err;
      });
    }
    try {
      await api.send('DELETE', `/api/v1/namespaces/${ns.name}`, undefined, options.signal);
    } catch (err: unknown) {
      if (!(err instanceof ApiError && err.status === 404)) throw err;
    }
  }
  const wanted = new Set(leftovers.map((n) => n.name));
  const present = new Map<string, RawNamespace>();
  const limit = deadline(options.signal, options.timeoutMs);
  try {
    for await (const e of api.listWatch<RawNamespace>('/api/v1/namespaces', { query: { labelSelector: MANAGED_SELECTOR }, signal: limit.signal, timeoutSeconds: 30 })) {
      if (e.type === 'LIST') present.clear();
      for (const ns of e.type === 'LIST' ? e.items : [e.object]) {
        const name = ns.metadata?.name ?? '';
        if (!wanted.has(name)) continue;
        if (e.type === 'DELETED') present.delete(name);
        else present.set(name, ns);
      }
      if (present.size === 0) break;
    }
  } catch (err: unknown) {
    // Out of time or interrupted: report what is still there.
    if (!limit.signal.aborted) throw err;
  } finally {
    limit.clear();
  }
  return {
    removed: [...wanted].filter((n) => !present.has(n)),
    stuck: [...present].map(([name, ns]) => ({ name, holding: holding(ns) })),
  };
}
