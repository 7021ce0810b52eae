// Reading nodes and the collector's pods for an in-cluster collection: which nodes to collect from (name,
// address, roles), whether a node can run a pod at all, and what state a collector pod is in. Pure:
// tested on recorded objects.
import type { Role } from '../core/types.js';

export interface RawNode {
  metadata?: { name?: string; labels?: Record<string, string> };
  spec?: { unschedulable?: boolean; podCIDR?: string; podCIDRs?: string[] };
  status?: {
    addresses?: { type?: string; address?: string }[];
    conditions?: { type?: string; status?: string; reason?: string; message?: string }[];
  };
}

export interface RawCollectorPod {
  metadata?: { name?: string; resourceVersion?: string; deletionTimestamp?: string };
  spec?: {
    nodeName?: string;
    affinity?: { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: { matchFields?: { key?: string; values?: string[] }[] }[] } } };
  };
  status?: {
    phase?: string;
    reason?: string;
    message?: string;
    conditions?: { type?: string; status?: string; reason?: string; message?: string }[];
    containerStatuses?: {
      state?: {
        running?: { startedAt?: string };
        waiting?: { reason?: string; message?: string };
        terminated?: { exitCode?: number; reason?: string; message?: string };
      };
    }[];
  };
}

/** A node an in-cluster collection reaches: its name, the address it reports, the roles its labels give. */
export interface NodeTarget {
  name: string;
  address?: string;
  roles: Role[];
  ready: { status: string; reason?: string; message?: string };
  unschedulable: boolean;
  podCIDRs: string[];
}

const ROLE_LABEL = 'node-role.kubernetes.io/';

/**
 * Roles from the node's labels as kubeadm, k3s and kubespray set them: control-plane (or the old master),
 * etcd (k3s's etcd label, or an etcd pod on the node: kubeadm's stacked etcd), else worker.
 */
export function rolesOf(labels: Record<string, string>, runsEtcd: boolean): Role[] {
  const roles: Role[] = [];
  if (`${ROLE_LABEL}control-plane` in labels || `${ROLE_LABEL}master` in labels) roles.push('control-plane');
  if (`${ROLE_LABEL}etcd` in labels || runsEtcd) roles.push('etcd');
  return roles.length ? roles : ['worker'];
}

export function nodeTargetOf(node: RawNode, etcdNodes: ReadonlySet<string>): NodeTarget {
  const name = node.metadata?.name ?? '';
  const addresses = node.status?.addresses ?? [];
  const address = addresses.find((a) => a.type === 'InternalIP')?.address ?? addresses.find((a) => a.type === 'ExternalIP')?.address;
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  return {
    name,
    ...(address ? { address } : {}),
    roles: rolesOf(node.metadata?.labels ?? {}, etcdNodes.has(name)),
    ready: { status: ready?.status ?? 'Unknown', ...(ready?.reason ? { reason: ready.reason } : {}), ...(ready?.message ? { message: ready.message } : {}) },
    unschedulable: node.spec?.unschedulable === true,
    podCIDRs: node.spec?.podCIDRs ?? (node.spec?.podCIDR ? [node.spec.podCIDR] : []),
  };
}

const readyText = (r: NodeTarget['ready']) => `node NotReady (Ready=${r.status}${r.reason ? `, ${r.reason}` : ''}${r.message ? `: ${r.message}` : ''})`;

/**
 * Why no pod can start on this node at all, or undefined when one may. A kubelet that stopped posting
 * (Ready=Unknown) or whose runtime is down starts nothing; a node NotReady only because its pod network
 * is not ready still runs host-network pods like the collector's.
 */
export function cannotRunPods(node: NodeTarget): string | undefined {
  if (node.ready.status === 'True') return undefined;
  if (node.ready.status === 'Unknown') return readyText(node.ready);
  if (/container runtime is down|PLEG is not healthy|container runtime status check may not have completed/i.test(node.ready.message ?? '')) return readyText(node.ready);
  return undefined;
}

/** What to say about a node whose pod never ran: its NotReady state, when it has one. */
export function nodeState(node: NodeTarget): string | undefined {
  return node.ready.status === 'True' ? undefined : readyText(node.ready);
}

/** The node a collector pod is for: where it was scheduled, else the node its DaemonSet affinity names. */
export function podNode(pod: RawCollectorPod): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  for (const t of terms) for (const f of t.matchFields ?? []) if (f.key === 'metadata.name' && f.values?.length === 1) return f.values[0];
  return undefined;
}

/** Waiting reasons after which the container will not start without someone changing something. */
const STUCK = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull', 'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError', 'CrashLoopBackOff']);

export type PodOutcome = { state: 'running' } | { state: 'failed'; reason: string } | { state: 'waiting'; detail: string };

/** Whether a collector pod's container runs (exec can go in), never will, or may still start. */
export function podOutcome(pod: RawCollectorPod): PodOutcome {
  if (pod.metadata?.deletionTimestamp) return { state: 'waiting', detail: 'the collector pod is being deleted' };
  const status = pod.status ?? {};
  if (status.phase === 'Failed' || status.phase === 'Succeeded') {
    return { state: 'failed', reason: `the collector pod ${status.phase === 'Failed' ? 'failed' : 'ended'}${status.reason ? `: ${status.reason}` : ''}${status.message ? `: ${status.message}` : ''}` };
  }
  const c = status.containerStatuses?.[0]?.state;
  if (c?.running) return { state: 'running' };
  if (c?.waiting?.reason && STUCK.has(c.waiting.reason)) return { state: 'failed', reason: `${c.waiting.reason}${c.waiting.message ? `: ${c.waiting.message}` : ''}` };
  if (c?.terminated) return { state: 'failed', reason: `the collector container exited (${c.terminated.reason ?? 'exit'} ${c.terminated.exitCode ?? '?'})${c.terminated.message ? `: ${c.terminated.message}` : ''}` };
  const unscheduled = status.conditions?.find((x) => x.type === 'PodScheduled' && x.status === 'False');
  if (unscheduled) return { state: 'waiting', detail: `not scheduled: ${unscheduled.reason ?? ''}${unscheduled.message ? `: ${unscheduled.message}` : ''}` };
  return { state: 'waiting', detail: `${status.phase ?? 'Pending'}${c?.waiting?.reason ? `: ${c.waiting.reason}${c.waiting.message ? `: ${c.waiting.message}` : ''}` : ''}` };
}
