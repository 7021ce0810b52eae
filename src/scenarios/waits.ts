// Waits the scenarios share, each a watch over one collection of the scenario's namespace.
import type { Judged, RawPod, Scenario } from './engine.js';
import { podReady } from './engine.js';

interface RawDeployment {
  metadata?: { name?: string; generation?: number };
  spec?: { replicas?: number };
  status?: { observedGeneration?: number; replicas?: number; updatedReplicas?: number; availableReplicas?: number; readyReplicas?: number; conditions?: { type?: string; status?: string; reason?: string; message?: string }[] };
}

interface RawSlice {
  metadata?: { name?: string };
  endpoints?: { conditions?: { ready?: boolean }; targetRef?: { kind?: string; name?: string } }[];
}

/** A Deployment's rollout is complete: every replica updated and available, none of the old ones left. */
export function rolledOut(d: RawDeployment, replicas: number): boolean {
  const st = d.status ?? {};
  return (st.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1) &&
    (st.replicas ?? 0) === replicas && (st.updatedReplicas ?? 0) === replicas && (st.availableReplicas ?? 0) === replicas;
}

function rolloutState(d: RawDeployment | undefined, name: string, replicas: number): string {
  if (!d) return `${name}: not created`;
  const st = d.status ?? {};
  const stuck = st.conditions?.find((c) => c.type === 'Progressing' && c.status === 'False') ?? st.conditions?.find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
  return `${name}: ${st.availableReplicas ?? 0}/${replicas} available, ${st.updatedReplicas ?? 0} updated, ${st.replicas ?? 0} in total${stuck ? ` (${stuck.reason}: ${stuck.message})` : ''}`;
}

/** Waits until each named Deployment has rolled out to exactly its expected number of replicas. */
export async function waitRolledOut(s: Scenario, expected: Record<string, number>, signal: AbortSignal): Promise<void> {
  await s.waitFor<RawDeployment>('the rollout', `/apis/apps/v1/namespaces/${s.namespace}/deployments`, {}, (items) => {
    const byName = new Map(items.map((d) => [d.metadata?.name ?? '', d]));
    const pending = Object.entries(expected).filter(([name, n]) => !byName.has(name) || !rolledOut(byName.get(name)!, n));
    return { done: pending.length === 0, state: pending.map(([name, n]) => rolloutState(byName.get(name), name, n)).join('; ') || 'rolled out', value: true };
  }, signal);
}

/** The scenario's Ready pods matching a label selector, by name. */
export async function readyPods(s: Scenario, selector: string, signal: AbortSignal): Promise<RawPod[]> {
  const list = await s.api.getJson<{ items: RawPod[] }>(`/api/v1/namespaces/${s.namespace}/pods?${new URLSearchParams({ labelSelector: selector })}`, signal);
  return list.items.filter(podReady);
}

/** Waits until one pod is Ready. */
export async function waitPodReady(s: Scenario, pod: string, signal: AbortSignal): Promise<void> {
  await s.waitFor<RawPod>(`pod ${pod} to be ready`, `/api/v1/namespaces/${s.namespace}/pods`, { fieldSelector: `metadata.name=${pod}` }, (items): Judged<true> => {
    const p = items[0];
    if (!p) return { done: false, state: `pod ${pod} not created` };
    const why = p.status?.conditions?.find((c) => c.status !== 'True' && (c.reason || c.message));
    return { done: podReady(p), state: `pod ${pod} ${p.status?.phase ?? 'unknown'}${p.spec?.nodeName ? '' : ', not scheduled'}${why ? ` (${why.type}: ${why.reason ?? ''} ${why.message ?? ''})` : ''}`, value: true };
  }, signal);
}

/** The ready pod names behind a Service, from its EndpointSlices. */
export function readyEndpoints(slices: readonly RawSlice[]): string[] {
  return slices.flatMap((sl) => (sl.endpoints ?? []).filter((e) => e.conditions?.ready !== false && e.targetRef?.kind === 'Pod' && e.targetRef.name).map((e) => e.targetRef!.name!)).sort();
}

/** Waits until the Service's ready endpoints are exactly these pods. */
export async function waitEndpoints(s: Scenario, service: string, pods: readonly string[], signal: AbortSignal): Promise<void> {
  const want = [...pods].sort();
  await s.waitFor<RawSlice>(`Service ${service}'s endpoints to match its pods`, `/apis/discovery.k8s.io/v1/namespaces/${s.namespace}/endpointslices`, { labelSelector: `kubernetes.io/service-name=${service}` }, (slices) => {
    const have = readyEndpoints(slices);
    const missing = want.filter((p) => !have.includes(p));
    const extra = have.filter((p) => !want.includes(p));
    return {
      done: missing.length === 0 && extra.length === 0,
      state: `Service ${service} has ${have.length} ready endpoint(s)${missing.length ? `, missing ${missing.join(', ')}` : ''}${extra.length ? `, unexpected ${extra.join(', ')}` : ''}`,
      value: true,
    };
  }, signal);
}
