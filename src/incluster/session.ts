// An in-cluster collection: the cluster runs kubecheck's node collector instead of SSH. It lists the nodes
// once, creates a namespace of its own and the collector's DaemonSet, follows the pods through one watch,
// and lets each node's host open as soon as its pod runs — results come in as the pods do, each exec
// bounded, at most `concurrency` at once. A node whose pod cannot run gets the reason (ImagePullBackOff…,
// node NotReady) as its one error. close() deletes the namespace, whatever happened.
import { randomBytes } from 'node:crypto';
import picomatch from 'picomatch';
import type { ConnectableHost } from '../collectors/host.js';
import { InputError } from '../core/errors.js';
import { heapBound } from '../core/heap.js';
import { deadline } from '../core/pool.js';
import type { Role } from '../core/types.js';
import { ApiError, type KubeApi } from '../k8s/api.js';
import { removeLeftovers } from '../k8s/managed.js';
import { TransportError } from '../transports/types.js';
import { COLLECTOR_CONTAINER, collectorDaemonSet, collectorNamespace } from './manifests.js';
import { type NodeTarget, type RawCollectorPod, type RawNode, cannotRunPods, nodeState, nodeTargetOf, podNode, podOutcome } from './pods.js';
import { DialAhead, PodTransport, Semaphore } from './transport.js';

/** From how many nodes a collection bounds its garbage, and where (the design's bar is 500 MB of RSS). */
const HEAP_BOUND_FROM = 500;
const HEAP_SOFT_LIMIT = 256 << 20;

/** Where the permissions an in-cluster collection needs are written down. */
export const IN_CLUSTER_RBAC = 'deploy/rbac/kubecheck-in-cluster.yaml';

export interface InClusterOptions {
  api: KubeApi;
  image: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /** Only nodes with these labels. */
  nodeSelector?: Record<string, string>;
  /** --limit: node names, addresses, roles or globs. */
  limit?: string[];
  /** Only these nodes (doctor's). */
  nodes?: string[];
  /** How long the collector pods have to start, from the DaemonSet's creation. */
  startTimeoutMs: number;
  /** Execs at once across all nodes. */
  concurrency: number;
  signal: AbortSignal;
}

/** The nodes could not be listed: nothing can be collected (the CLI exits 3). */
export class InClusterSetupError extends Error {
  override name = 'InClusterSetupError';
}

export interface InClusterHost extends ConnectableHost {
  node: NodeTarget;
}

export interface InClusterCollection {
  /** The namespace the collector runs in (deleted by close). */
  namespace: string;
  hosts: InClusterHost[];
  /** Deletes the namespace (and with it the DaemonSet and its pods); says what is still there. */
  close(): Promise<{ stuck?: string }>;
  /** When each stage was reached, in ms since the start (for the benchmarks: where the time goes). */
  timeline(): Record<string, number>;
}

interface Gate {
  promise: Promise<string>;
  resolve(pod: string): void;
  reject(reason: string): void;
  settled: boolean;
  pod?: string;
  detail?: string;
}

function gate(): Gate {
  let resolve!: (pod: string) => void;
  let reject!: (reason: string) => void;
  const promise = new Promise<string>((res, rej) => {
    resolve = res;
    reject = (reason: string) => rej(new Error(reason));
  });
  promise.catch(() => undefined);
  const g: Gate = {
    promise,
    settled: false,
    resolve: (pod) => {
      if (g.settled) return;
      g.settled = true;
      g.pod = pod;
      resolve(pod);
    },
    reject: (reason) => {
      if (g.settled) return;
      g.settled = true;
      reject(reason);
    },
  };
  return g;
}

const reason = (err: unknown) => (err instanceof Error ? err.message : String(err));
const hint = (err: unknown) => (err instanceof ApiError && (err.status === 403 || err.status === 401) ? ` (the permissions in-cluster collection needs: ${IN_CLUSTER_RBAC})` : '');

/** The nodes to collect from: listed once (paginated), their roles from labels and kubeadm's etcd pods. */
async function listTargets(options: InClusterOptions): Promise<NodeTarget[]> {
  const selector = Object.entries(options.nodeSelector ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
  // kubeadm's stacked etcd runs as a static pod: its node is an etcd member too. Not knowing is not fatal.
  const etcd = await options.api.list<RawCollectorPod, string | undefined>('/api/v1/namespaces/kube-system/pods', (p) => p.spec?.nodeName, { signal: options.signal, query: { labelSelector: 'component=etcd' } });
  const etcdNodes = new Set(etcd.ok ? etcd.items.filter((n): n is string => !!n) : []);
  // Each page's nodes become targets as it comes (thousands of whole node objects are not kept).
  const nodes = await options.api.list<RawNode, NodeTarget>('/api/v1/nodes', (n) => nodeTargetOf(n, etcdNodes), { signal: options.signal, ...(selector ? { query: { labelSelector: selector } } : {}) });
  if (!nodes.ok) throw new InClusterSetupError(`in-cluster collection: cannot list nodes: ${nodes.detail}${nodes.forbidden ? ` (the permissions in-cluster collection needs: ${IN_CLUSTER_RBAC})` : ''}`);
  let targets = nodes.items.filter((t) => t.name);
  if (options.nodes) targets = targets.filter((t) => options.nodes!.includes(t.name));
  if (options.limit?.length) {
    const matchers = options.limit.map((l) => picomatch(l));
    const chosen = targets.filter((t) => matchers.some((m, i) => m(t.name) || (t.address !== undefined && m(t.address)) || t.roles.includes(options.limit![i] as Role)));
    if (!chosen.length) throw new InputError([{ message: `--limit ${options.limit.join(',')} selects no node (nodes: ${targets.map((t) => t.name).slice(0, 20).join(', ')}${targets.length > 20 ? ', …' : ''})` }]);
    targets = chosen;
  }
  return targets;
}

/** Starts an in-cluster collection: lists the nodes, creates the namespace and the DaemonSet, follows the pods. */
export async function startInClusterCollection(options: InClusterOptions): Promise<InClusterCollection> {
  const { api } = options;
  const t0 = performance.now();
  const marks: Record<string, number> = {};
  const mark = (name: string) => {
    marks[name] ??= Math.round(performance.now() - t0);
  };
  const targets = await listTargets(options);
  mark('nodesListed');
  const namespace = `kubecheck-collect-${randomBytes(3).toString('hex')}`;
  const gates = new Map(targets.map((t) => [t.name, gate()]));
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  options.signal.addEventListener('abort', onAbort, { once: true });
  const limiter = new Semaphore(options.concurrency);
  // Thousands of nodes: the garbage of their execs is collected as it builds up (see heapBound).
  const keepHeap = targets.length >= HEAP_BOUND_FROM ? heapBound(HEAP_SOFT_LIMIT) : () => undefined;
  const ahead = new DialAhead();
  let created = false;
  let setupProblem: string | undefined;

  // Nodes that cannot start any pod are told so now, not after the start timeout.
  for (const t of targets) {
    const why = cannotRunPods(t);
    if (why) gates.get(t.name)!.reject(why);
  }
  const spec = {
    namespace,
    image: options.image,
    ...(options.imagePullPolicy ? { imagePullPolicy: options.imagePullPolicy } : {}),
    ...(options.nodeSelector ? { nodeSelector: options.nodeSelector } : {}),
    // A subset of the nodes: only theirs get a pod.
    ...(options.nodes || options.limit?.length ? { nodes: targets.map((t) => t.name) } : {}),
  };
  if (targets.length) {
    try {
      await api.send('POST', '/api/v1/namespaces', collectorNamespace(spec), options.signal);
      created = true;
      await api.send('POST', `/apis/apps/v1/namespaces/${namespace}/daemonsets`, collectorDaemonSet(spec), options.signal);
      mark('daemonSetCreated');
    } catch (err: unknown) {
      setupProblem = `in-cluster collection could not start: ${reason(err)}${hint(err)}`;
      for (const g of gates.values()) g.reject(setupProblem);
    }
  }

  // The pods, through one list + watch of the namespace: each node's gate opens when its pod runs.
  const watching = setupProblem || !targets.length ? Promise.resolve() : (async () => {
    try {
      for await (const e of api.listWatch<RawCollectorPod>(`/api/v1/namespaces/${namespace}/pods`, { signal: stop.signal, timeoutSeconds: 60 })) {
        for (const pod of e.type === 'LIST' ? e.items : [e.object]) {
          const node = podNode(pod);
          const g = node ? gates.get(node) : undefined;
          if (!g || g.settled) continue;
          if (e.type === 'DELETED') {
            g.detail = 'the collector pod was deleted';
            continue;
          }
          g.pod = pod.metadata?.name;
          const outcome = podOutcome(pod);
          if (outcome.state === 'running') {
            mark('firstPodRunning');
            if (g.pod) g.resolve(g.pod);
          } else if (outcome.state === 'failed') g.reject(`the collector pod ${g.pod ?? ''} cannot run: ${outcome.reason}`);
          else g.detail = outcome.detail;
        }
        if ([...gates.values()].every((g) => g.settled)) {
          mark('everyPodSettled');
          break;
        }
      }
    } catch (err: unknown) {
      if (stop.signal.aborted) return;
      for (const g of gates.values()) g.reject(`in-cluster collection: watching the collector pods failed: ${reason(err)}${hint(err)}`);
    }
  })();

  // Out of time: each node still waiting gets what its pod and node said last (and the pod's events).
  const timer = setTimeout(() => void expire(), options.startTimeoutMs);
  async function expire(): Promise<void> {
    const waiting = targets.filter((t) => !gates.get(t.name)!.settled);
    if (!waiting.length) return;
    const events = new Map<string, string[]>();
    try {
      const list = await api.getJson<{ items: { involvedObject?: { name?: string }; reason?: string; message?: string; type?: string }[] }>(`/api/v1/namespaces/${namespace}/events`, stop.signal);
      for (const ev of list.items) {
        if (ev.type !== 'Warning' || !ev.involvedObject?.name) continue;
        events.set(ev.involvedObject.name, [...(events.get(ev.involvedObject.name) ?? []), `${ev.reason ?? ''}: ${ev.message ?? ''}`]);
      }
    } catch {
      // Events only add detail.
    }
    const seconds = Math.round(options.startTimeoutMs / 1000);
    for (const t of waiting) {
      const g = gates.get(t.name)!;
      const said = g.pod ? events.get(g.pod)?.slice(-2).join('; ') : undefined;
      const state = nodeState(t);
      g.reject(g.pod
        ? `the collector pod ${g.pod} did not start within ${seconds} s (${g.detail ?? 'Pending'}${said ? `; ${said}` : ''})${state ? `; ${state}` : ''}`
        : `no collector pod was created for this node within ${seconds} s${state ? `: ${state}` : ''}`);
    }
  }

  const hosts: InClusterHost[] = targets.map((t) => ({
    name: t.name,
    node: t,
    ...(t.address ? { address: t.address } : {}),
    roles: t.roles,
    podCIDRs: t.podCIDRs,
    via: 'in-cluster' as const,
    open: async (signal: AbortSignal) => {
      const g = gates.get(t.name)!;
      const pod = await new Promise<string>((resolve, reject) => {
        const onStop = () => reject(new TransportError('interrupted', 'interrupted'));
        if (signal.aborted) return onStop();
        signal.addEventListener('abort', onStop, { once: true });
        g.promise.then(resolve, (err: unknown) => reject(new TransportError('unreachable', reason(err)))).finally(() => signal.removeEventListener('abort', onStop));
      });
      return new PodTransport(t.name, api, { namespace, pod, container: COLLECTOR_CONTAINER }, limiter, ahead, () => {
        marks.lastFactsGathered = Math.round(performance.now() - t0);
        keepHeap();
      });
    },
  }));

  let closed: Promise<{ stuck?: string }> | undefined;
  return {
    namespace,
    hosts,
    close: () => {
      closed ??= (async () => {
        clearTimeout(timer);
        stop.abort();
        options.signal.removeEventListener('abort', onAbort);
        for (const g of gates.values()) g.reject('the in-cluster collection ended');
        await watching;
        if (!created) return {};
        // On its own clock: after Ctrl-C the namespace must still go.
        const limit = deadline(new AbortController().signal, 120_000);
        try {
          mark('closeStarted');
          const { stuck } = await removeLeftovers(api, [{ name: namespace, collector: true }], { timeoutMs: 90_000, signal: limit.signal });
          mark('namespaceGone');
          return stuck.length ? { stuck: `the namespace ${namespace} is still terminating (${stuck[0].holding || 'no reason given'}): \`kubecheck cleanup\` removes it` } : {};
        } catch (err: unknown) {
          return { stuck: `the namespace ${namespace} could not be deleted (${reason(err)}): \`kubecheck cleanup\` removes it` };
        } finally {
          limit.clear();
        }
      })();
      return closed;
    },
    timeline: () => ({ ...marks }),
  };
}
