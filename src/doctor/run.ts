// kubecheck doctor: for each node (the NotReady ones, those named, or --all), gather the cluster's and
// the host's evidence, run kubecheck's own checks on it, and name the causes, most likely first.
import type { NodeFacts } from '../core/facts.js';
import { natural } from '../core/order.js';
import { forEachLimited } from '../core/pool.js';
import { type ConnectableHost, collectFromHost } from '../collectors/host.js';
import { judgeCluster, judgeFleet, judgeNode, reasonOf } from '../core/executors.js';
import { summarize } from '../core/runner.js';
import type { Check, CheckResult, ClusterCheck, Diagnosis, FleetCheck, NodeCheck, RunResult, TargetInfo } from '../core/types.js';
import type { KubeApi } from '../k8s/api.js';
import { type ClusterSnapshot, type NodeInfo, type PodInfo, projectPod, takeSnapshot } from '../k8s/snapshot.js';
import { diagnose } from './diagnose.js';
import { type ClusterEvidence, type NodeEvidence, currentRun } from './evidence.js';
import { RULES } from './rules/index.js';

export interface DoctorOptions {
  nodes: string[];
  all: boolean;
  /** The check registry: the doctor judges host facts and the cluster's view with these, never by itself. */
  checks: readonly Check[];
  /** --profile: judge hosts and cluster as this install. */
  profile?: string;
  api?: KubeApi;
  hosts?: ConnectableHost[];
  /**
   * Hosts made for the nodes doctor chose (the in-cluster collection: a collector pod on those nodes only),
   * asked once the nodes are known; used instead of `hosts`.
   */
  hostsFor?: (nodes: string[]) => Promise<{ hosts: ConnectableHost[]; timeoutMs?: number }>;
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

/** The checks the rules cite (by the check ids in their codes), and every node check. */
function checksToRun(checks: readonly Check[]) {
  const cited = new Set(RULES.flatMap((r) => r.codes.map((c) => c.split('/')[0])));
  return {
    node: checks.filter((c): c is NodeCheck => c.kind === 'node'),
    fleet: checks.filter((c): c is FleetCheck => c.kind === 'fleet' && cited.has(c.id)),
    cluster: checks.filter((c): c is ClusterCheck => c.kind === 'cluster' && cited.has(c.id)),
  };
}

async function clusterEvidence(api: KubeApi, wanted: string[] | 'notready' | 'all', options: DoctorOptions) {
  const opts = { signal: options.signal };
  const [snapshot, events] = await Promise.all([
    takeSnapshot(api, { signal: options.signal, ...(options.profile ? { profile: options.profile } : {}) }),
    api.list<RawEvent, RawEvent>('/api/v1/events', (e) => ({ involvedObject: e.involvedObject, reason: e.reason, message: e.message, lastTimestamp: e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp }), opts),
  ]);
  const nodes = snapshot.nodes;
  if (!nodes.ok) return { problem: `cannot list nodes: ${nodes.detail}` };
  const chosen = nodes.items.filter((n) => (wanted === 'all' ? true : wanted === 'notready' ? readyOf(n)?.status !== 'True' : wanted.includes(n.name)));
  const leaseOf = new Map(snapshot.nodeLeases.ok ? snapshot.nodeLeases.items.map((l) => [l.name, l]) : []);
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
    });
  });
  return { evidence: out, all: nodes.items, snapshot };
}

/** A node's host: same name, or a host whose address is one of the node's addresses. */
function hostFor(node: string, addresses: string[], hosts: ConnectableHost[]): ConnectableHost | undefined {
  return hosts.find((h) => h.name === node) ?? hosts.find((h) => h.address !== undefined && addresses.includes(h.address));
}

/**
 * Every check's verdict on every node's evidence: node checks on the host's facts (post-install, with
 * the node's podCIDRs), the fleet checks the rules cite over all reached hosts, and the cluster checks'
 * results for the node (and the cluster-wide ones).
 */
export function judgeEvidence(
  checks: readonly Check[],
  reached: { node: string; roles: string[]; facts: NodeFacts; podCIDRs?: string[] }[],
  snapshot: ClusterSnapshot | undefined,
  now: Date,
): Map<string, CheckResult[]> {
  const run = checksToRun(checks);
  const out = new Map<string, CheckResult[]>();
  const add = (node: string, r: CheckResult) => out.set(node, [...(out.get(node) ?? []), r]);
  const roles = (r: string[]) => r.filter((x): x is 'control-plane' | 'worker' | 'etcd' => x === 'control-plane' || x === 'worker' || x === 'etcd');
  for (const h of reached) {
    const ctx = { host: h.node, roles: roles(h.roles), phase: 'post' as const, params: {}, now, ...(h.podCIDRs?.length ? { podCIDRs: h.podCIDRs } : {}) };
    for (const check of run.node) add(h.node, judgeNode(check, h.facts, ctx));
  }
  const members = reached.map((h) => ({ host: h.node, roles: roles(h.roles), facts: h.facts }));
  for (const check of run.fleet) for (const r of judgeFleet(check, members, { phase: 'post', params: {}, now })) add(r.target, r);
  if (snapshot) {
    const nodes = snapshot.nodes.ok ? snapshot.nodes.items.map((n) => n.name) : [];
    for (const check of run.cluster) {
      for (const r of judgeCluster(check, {}, snapshot, () => now)) {
        if (r.target === 'cluster') for (const n of new Set([...nodes, ...reached.map((h) => h.node)])) add(n, r);
        else add(r.target, r);
      }
    }
  }
  return out;
}

/** The report's targets: the cluster when one was asked, and every host looked at (reached or why not). */
function doctorTargets(evidence: NodeEvidence[], reachedBy: Map<string, TargetInfo['reachedBy']>, asked: boolean, clusterProblem: string | undefined): TargetInfo[] {
  const out: TargetInfo[] = [];
  if (asked) out.push({ name: 'cluster', kind: 'cluster', reached: !clusterProblem, reachedBy: 'api', ...(clusterProblem ? { problem: clusterProblem } : {}) });
  for (const e of evidence) {
    if (!e.host && !e.hostProblem) continue;
    const via = reachedBy.get(e.node);
    out.push({ name: e.node, kind: 'host', reached: e.host !== undefined, ...(via ? { reachedBy: via } : {}), ...(e.host?.profile ? { profile: e.host.profile.name, cni: e.host.profile.cni } : {}), ...(e.hostProblem ? { problem: e.hostProblem } : {}) });
  }
  return out;
}

export async function runDoctor(options: DoctorOptions): Promise<RunResult> {
  const now = options.now ?? (() => new Date());
  const startedAt = now();
  const started = performance.now();
  const wanted: string[] | 'notready' | 'all' = options.nodes.length ? options.nodes : options.all ? 'all' : options.api ? 'notready' : 'all';
  const evidence = new Map<string, NodeEvidence>();
  let clusterProblem: string | undefined;
  let allNodes: NodeInfo[] = [];
  let snapshot: ClusterSnapshot | undefined;

  if (options.api) {
    const c = await clusterEvidence(options.api, wanted, options);
    if ('problem' in c) clusterProblem = c.problem;
    else {
      allNodes = c.all;
      snapshot = c.snapshot;
      for (const [name, ce] of c.evidence) evidence.set(name, { node: name, now: now(), cluster: ce, results: [] });
    }
  }
  let hosts = options.hosts ?? [];
  // Without a cluster (or when it could not be read), the hosts themselves are the nodes to look at.
  if (!options.api || clusterProblem) {
    for (const h of hosts) if (wanted === 'all' || wanted === 'notready' || wanted.includes(h.name)) evidence.set(h.name, { node: h.name, now: now(), results: [], ...(clusterProblem ? { clusterProblem } : {}) });
  }
  if (Array.isArray(wanted)) {
    for (const n of wanted) if (!evidence.has(n)) evidence.set(n, { node: n, now: now(), results: [], clusterProblem: clusterProblem ?? (options.api ? 'no such node in the cluster' : 'not in the inventory') });
  }

  const targets = [...evidence.values()];
  let timeoutMs = options.timeoutMs;
  if (options.hostsFor) {
    const made = await options.hostsFor(targets.filter((t) => t.cluster).map((t) => t.node));
    hosts = made.hosts;
    timeoutMs = made.timeoutMs ?? timeoutMs;
  }
  const reachedBy = new Map<string, TargetInfo['reachedBy']>();
  const reached: { node: string; roles: string[]; facts: NodeFacts; podCIDRs?: string[] }[] = [];
  await forEachLimited(targets, options.concurrency, options.signal, async (e) => {
    const info = allNodes.find((n) => n.name === e.node);
    const host = hostFor(e.node, info?.addresses.map((a) => a.address) ?? [], hosts);
    if (!host) return;
    if (host.via) reachedBy.set(e.node, host.via);
    try {
      const facts = await collectFromHost(host, { timeoutMs, signal: options.signal, kubeletLog: true, ...(options.profile ? { profile: options.profile } : {}) });
      const [source, ...lines] = (facts.raw.kubeletlog ?? '').split('\n').filter(Boolean);
      const log = /^(unit|file) /.test(source ?? '') ? lines : source?.startsWith('no kubelet log') ? [] : [source, ...lines].filter(Boolean);
      e.host = { init: facts.init, kubeletLog: currentRun(log), roles: host.roles, profile: facts.profile };
      if (facts.reachedBy) reachedBy.set(e.node, facts.reachedBy);
      reached.push({ node: e.node, roles: host.roles, facts, ...(info?.podCIDRs.length ? { podCIDRs: info.podCIDRs } : {}) });
    } catch (err: unknown) {
      e.hostProblem = reasonOf(err);
    }
  });
  reached.sort((a, b) => natural(a.node, b.node));
  const judged = judgeEvidence(options.checks, reached, snapshot, now());
  for (const e of targets) e.results = judged.get(e.node) ?? [];

  const diagnoses: Diagnosis[] = [];
  const results: CheckResult[] = [];
  for (const e of [...evidence.values()].sort((a, b) => natural(a.node, b.node))) {
    const state = e.cluster ? stateOf(e.cluster.node) : undefined;
    let found: Diagnosis[];
    try {
      found = diagnose(e, state);
    } catch (err: unknown) {
      results.push({ check: 'doctor.node', target: e.node, status: 'error', code: 'doctor.node/crashed', message: err instanceof Error ? err.message : String(err), durationMs: 0 });
      continue;
    }
    diagnoses.push(...found);
    const top = found[0];
    const notes = [e.hostProblem ? `host not reached: ${e.hostProblem}` : '', e.clusterProblem ? `cluster: ${e.clusterProblem}` : ''].filter(Boolean);
    const healthy = top.cause === 'healthy';
    const unknownNode = !e.cluster && !e.host;
    const status = unknownNode ? 'error' : healthy ? 'pass' : 'fail';
    results.push({
      check: 'doctor.node',
      target: e.node,
      status,
      ...(status === 'pass' ? {} : { code: `doctor.node/${unknownNode ? 'unreached' : top.cause}` }),
      message: `${state ? `${state} — ` : ''}${healthy ? 'healthy' : `${top.cause}: ${top.summary}`}${found.length > 1 ? ` (also: ${found.slice(1).map((d) => d.cause).join(', ')})` : ''}${notes.length ? ` [${notes.join('; ')}]` : ''}`,
      ...(top.evidence.length ? { evidence: Object.fromEntries(found.map((d) => [d.cause, d.evidence.join('\n')])) } : {}),
      ...(top.fix.length ? { remediation: top.fix.join('\n') } : {}),
      durationMs: 0,
    });
  }
  if (clusterProblem && hosts.length === 0 && results.length === 0) {
    // Nothing to look at: the cluster could not be read and no inventory was given.
    results.push({ check: 'doctor.node', target: 'cluster', status: 'error', code: 'doctor.node/unreached', message: `cluster not reached: ${clusterProblem}`, durationMs: 0 });
  }
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
    targets: doctorTargets(targets, reachedBy, options.api !== undefined, clusterProblem),
    parameters: { sources: [options.api ? 'cluster' : '', options.hostsFor ? 'in-cluster' : '', options.hosts?.length ? 'inventory' : ''].filter(Boolean).join('+') },
  };
}
