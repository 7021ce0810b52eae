// kubecheck doctor: for each node (the NotReady ones, those named, or --all), gather the cluster's and
// the host's evidence and name the causes, most likely first.
import { natural } from '../core/order.js';
import { forEachLimited } from '../core/pool.js';
import { collectFromHost, reasonOf, summarize, type HostTarget } from '../core/runner.js';
import type { CheckResult, Diagnosis, RunResult } from '../core/types.js';
import type { KubeApi } from '../k8s/api.js';
import { type NodeInfo, type PodInfo, type LeaseInfo, type TokenInfo, projectLease, projectNode, projectPod, projectToken } from '../k8s/snapshot.js';
import { diagnose } from './diagnose.js';
import type { ClusterEvidence, NodeEvidence } from './evidence.js';

export interface DoctorOptions {
  nodes: string[];
  all: boolean;
  api?: KubeApi;
  hosts?: HostTarget[];
  signal: AbortSignal;
  concurrency: number;
  timeoutMs: number;
  version: string;
  now?: () => Date;
}

interface RawEvent {
  involvedObject?: { kind?: string; name?: string; namespace?: string };
  reason?: string;
  message?: string;
  lastTimestamp?: string;
  eventTime?: string;
  metadata?: { creationTimestamp?: string };
}

const readyOf = (n: NodeInfo) => n.conditions.find((c) => c.type === 'Ready');

function stateOf(n: NodeInfo): string {
  const r = readyOf(n);
  const since = r?.lastTransitionTime ? ` since ${r.lastTransitionTime.slice(11, 16)} UTC (${r.lastTransitionTime.slice(0, 10)})` : '';
  return r?.status === 'True' ? 'Ready' : `NotReady${since}`;
}

async function clusterEvidence(api: KubeApi, wanted: string[] | 'notready' | 'all', options: DoctorOptions) {
  const opts = { signal: options.signal };
  const [nodes, leases, events, tokens] = await Promise.all([
    api.list('/api/v1/nodes', projectNode, opts),
    api.list('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', projectLease, opts),
    api.list<RawEvent, RawEvent>('/api/v1/events', (e) => ({ involvedObject: e.involvedObject, reason: e.reason, message: e.message, lastTimestamp: e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp }), opts),
    api.list('/api/v1/namespaces/kube-system/secrets', projectToken, { ...opts, query: { fieldSelector: 'type=bootstrap.kubernetes.io/token' } }),
  ]);
  if (!nodes.ok) return { problem: `cannot list nodes: ${nodes.detail}` };
  const chosen = nodes.items.filter((n) => (wanted === 'all' ? true : wanted === 'notready' ? readyOf(n)?.status !== 'True' : wanted.includes(n.name)));
  const leaseOf = new Map<string, LeaseInfo>(leases.ok ? leases.items.map((l) => [l.name, l]) : []);
  const now = (options.now ?? (() => new Date()))();
  const validTokens = tokens.ok ? tokens.items.filter((t: TokenInfo) => !t.expiration || Date.parse(t.expiration) > now.getTime()).length : undefined;
  const out = new Map<string, ClusterEvidence>();
  await forEachLimited(chosen, options.concurrency, options.signal, async (node) => {
    const pods = await api.list('/api/v1/pods', projectPod, { ...opts, query: { fieldSelector: `spec.nodeName=${node.name}` } });
    const podItems: PodInfo[] = pods.ok ? pods.items : [];
    const podKeys = new Set(podItems.map((p) => `${p.namespace}/${p.name}`));
    const mine = (events.ok ? events.items : [])
      .filter((e) => (e.involvedObject?.kind === 'Node' && e.involvedObject.name === node.name) || (e.involvedObject?.kind === 'Pod' && podKeys.has(`${e.involvedObject.namespace}/${e.involvedObject.name}`)))
      .sort((a, b) => (a.lastTimestamp ?? '').localeCompare(b.lastTimestamp ?? ''))
      .map((e) => `${e.involvedObject?.kind === 'Pod' ? `${e.involvedObject.name}: ` : ''}${e.reason ?? ''}: ${e.message ?? ''}`);
    const lease = leaseOf.get(node.name);
    out.set(node.name, {
      node,
      ...(readyOf(node) ? { ready: readyOf(node) } : {}),
      ...(lease?.renewTime ? { leaseRenewTime: lease.renewTime } : {}),
      ...(lease?.durationSeconds !== undefined ? { leaseDurationSeconds: lease.durationSeconds } : {}),
      events: mine.slice(-50),
      pods: podItems,
      ...(validTokens !== undefined ? { validTokens } : {}),
    });
  });
  return { evidence: out, all: nodes.items };
}

/** A node's host: same name, or a host whose address is one of the node's addresses. */
function hostFor(node: string, addresses: string[], hosts: HostTarget[]): HostTarget | undefined {
  return hosts.find((h) => h.name === node) ?? hosts.find((h) => h.address !== undefined && addresses.includes(h.address));
}

export async function runDoctor(options: DoctorOptions): Promise<RunResult> {
  const now = options.now ?? (() => new Date());
  const startedAt = now();
  const started = performance.now();
  const wanted: string[] | 'notready' | 'all' = options.nodes.length ? options.nodes : options.all ? 'all' : options.api ? 'notready' : 'all';
  const evidence = new Map<string, NodeEvidence>();
  let clusterProblem: string | undefined;
  let allNodes: NodeInfo[] = [];

  if (options.api) {
    const c = await clusterEvidence(options.api, wanted, options);
    if ('problem' in c) clusterProblem = c.problem;
    else {
      allNodes = c.all;
      for (const [name, ce] of c.evidence) evidence.set(name, { node: name, now: now(), cluster: ce });
    }
  }
  const hosts = options.hosts ?? [];
  // Without a cluster (or when it could not be read), the hosts themselves are the nodes to look at.
  if (!options.api || clusterProblem) {
    for (const h of hosts) if (wanted === 'all' || wanted === 'notready' || wanted.includes(h.name)) evidence.set(h.name, { node: h.name, now: now(), ...(clusterProblem ? { clusterProblem } : {}) });
  }
  if (Array.isArray(wanted)) {
    for (const n of wanted) if (!evidence.has(n)) evidence.set(n, { node: n, now: now(), clusterProblem: clusterProblem ?? (options.api ? 'no such node in the cluster' : 'not in the inventory') });
  }

  const targets = [...evidence.values()];
  await forEachLimited(targets, options.concurrency, options.signal, async (e) => {
    const addresses = allNodes.find((n) => n.name === e.node)?.addresses.map((a) => a.address) ?? [];
    const host = hostFor(e.node, addresses, hosts);
    if (!host) return;
    try {
      const facts = await collectFromHost(host, { timeoutMs: options.timeoutMs, signal: options.signal, kubeletLog: true });
      const log = facts.raw.kubeletlog ?? '';
      e.host = { facts, kubeletLog: log.startsWith('no kubelet log') ? [] : log.split('\n').filter(Boolean), roles: host.roles };
    } catch (err: unknown) {
      e.hostProblem = reasonOf(err);
    }
  });

  const diagnoses: Diagnosis[] = [];
  const results: CheckResult[] = [];
  for (const e of [...evidence.values()].sort((a, b) => natural(a.node, b.node))) {
    const state = e.cluster ? stateOf(e.cluster.node) : undefined;
    let found: Diagnosis[];
    try {
      found = diagnose(e, state);
    } catch (err: unknown) {
      results.push({ check: 'doctor.node', target: e.node, status: 'error', message: err instanceof Error ? err.message : String(err), durationMs: 0 });
      continue;
    }
    diagnoses.push(...found);
    const top = found[0];
    const notes = [e.hostProblem ? `host not reached: ${e.hostProblem}` : '', e.clusterProblem ? `cluster: ${e.clusterProblem}` : ''].filter(Boolean);
    const healthy = top.cause === 'healthy';
    const unknownNode = !e.cluster && !e.host;
    results.push({
      check: 'doctor.node',
      target: e.node,
      status: unknownNode ? 'error' : healthy ? 'pass' : 'fail',
      message: `${state ? `${state} — ` : ''}${healthy ? 'healthy' : `${top.cause}: ${top.summary}`}${found.length > 1 ? ` (also: ${found.slice(1).map((d) => d.cause).join(', ')})` : ''}${notes.length ? ` [${notes.join('; ')}]` : ''}`,
      ...(top.evidence.length ? { evidence: Object.fromEntries(found.map((d) => [d.cause, d.evidence.join('\n')])) } : {}),
      ...(top.fix.length ? { remediation: top.fix.join('\n') } : {}),
      durationMs: 0,
    });
  }
  if (clusterProblem && hosts.length === 0 && results.length === 0) {
    // Nothing to look at: the cluster could not be read and no inventory was given.
    results.push({ check: 'doctor.node', target: 'cluster', status: 'error', message: `cluster not reached: ${clusterProblem}`, durationMs: 0 });
  }
  const reachedHosts = targets.filter((e) => e.host).length;
  return {
    schemaVersion: 1,
    tool: { name: 'kubecheck', version: options.version },
    command: 'doctor',
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(performance.now() - started),
    summary: summarize(results),
    results,
    diagnoses,
    ...(options.signal.aborted ? { interrupted: true } : {}),
    targets: { total: Math.max(targets.length, results.length), reached: options.api && !clusterProblem ? targets.length : reachedHosts },
    parameters: { sources: [options.api ? 'cluster' : '', hosts.length ? 'inventory' : ''].filter(Boolean).join('+') },
  };
}

