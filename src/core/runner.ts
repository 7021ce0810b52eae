// The runner: schedules collection and checks with bounded concurrency and per-target timeouts, and
// decides the exit code. It receives the check registry and the fact collector (the core imports nothing
// above it): runSuite({ checks, collect, … }).
import type { ClusterSnapshot } from './cluster.js';
import { judgeCluster, judgeFleet, judgeNode, judgeWorkload, notRun, reasonOf, toResult } from './executors.js';
import { type FleetProbes, type NodeFacts, fleetFactsOf } from './facts.js';
import { skip } from './findings.js';
import { forEachLimited, withTimeout } from './pool.js';
import type {
  Check,
  CheckResult,
  ClusterCheck,
  FleetCheck,
  FleetMember,
  FleetProbeKind,
  FleetShape,
  HostTarget,
  NodeCheck,
  Phase,
  Role,
  RunResult,
  Status,
  Suite,
  SuiteEntry,
  Summary,
  TargetInfo,
  WorkloadCheck,
  WorkloadSettings,
} from './types.js';
import { STATUSES } from './types.js';
import { natural } from './order.js';

export { reasonOf } from './executors.js';

export type ProgressEvent =
  | { type: 'start'; targets: number; checks: number }
  | { type: 'target-done'; target: string; reached: boolean; failing: boolean; done: number; total: number };

/**
 * How much of the cluster a run reads: everything (it has cluster or workload checks), or for host checks
 * alone the nodes' podCIDRs and the version, or the version alone when the hosts came with their podCIDRs.
 */
export type SnapshotScope = 'cluster' | 'nodes' | 'version';

/** Where cluster checks get their snapshot (taken once per run; again only for --retries). */
export interface ClusterSource<Api = unknown> {
  snapshot(signal: AbortSignal, scope?: SnapshotScope): Promise<ClusterSnapshot>;
  /** The API client workload scenarios run with (they write: their own namespace only). */
  api?: Api;
}

/** Gathers one host's facts (one connection, one collector run), within the timeout or until the signal aborts. */
export type CollectFacts<H extends HostTarget> = (host: H, options: { timeoutMs: number; signal: AbortSignal; phase: Phase; keepOpen?: boolean }) => Promise<NodeFacts>;

/**
 * Has the reached hosts talk to each other (kept open since collection: `keepOpen`), for the fleet checks
 * that judge it; closes what it used. Absent: those checks skip with the reason.
 */
export type ProbeFleet = (members: readonly FleetMember[], kinds: FleetProbeKind[], signal: AbortSignal) => Promise<FleetProbes>;

/**
 * Told of each host as soon as its facts are in (its connection kept for the probes), with every host's
 * name and roles: its probe can start then, while the other hosts are still being collected.
 */
export type BeginProbe = (member: FleetMember, fleet: readonly FleetShape[], kinds: FleetProbeKind[], signal: AbortSignal) => void;

/** Above this many hosts, connections are not kept open for probes between hosts (each pair is a connection). */
export const MAX_PROBED_HOSTS = 256;

export interface RunOptions<Api = unknown, H extends HostTarget = HostTarget> {
  command: string;
  /** The check registry: suite entries are looked up here, and its order sorts results without a suite order. */
  checks: readonly Check<Api>[];
  /** How a host's facts are gathered (the CLI gives the SSH/local collector; tests may give recorded facts). */
  collect: CollectFacts<H>;
  probeFleet?: ProbeFleet;
  beginProbe?: BeginProbe;
  cluster?: ClusterSource<Api>;
  /** Re-run failing cluster checks on a fresh snapshot (and failing scenarios) up to this many times (never node facts). */
  retries?: number;
  /** Settings every workload scenario gets (the suite's `workloads:` block and --image-registry). */
  workloadSettings?: WorkloadSettings;
  suite: Suite;
  /** The suite's entries after --only/--skip. */
  entries: SuiteEntry[];
  hosts: H[];
  phase?: Phase;
  /** Judge every host with these roles (--role, or the suite's roles). */
  roles?: Role[];
  concurrency?: number;
  /** Time for one host's connection and collection. */
  targetTimeoutMs?: number;
  signal: AbortSignal;
  now?: () => Date;
  version: string;
  parameters?: Record<string, string>;
  onProgress?: (event: ProgressEvent) => void;
}

export const DEFAULT_CONCURRENCY = 32;

export function summarize(results: readonly CheckResult[]): Summary {
  const summary = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Summary;
  for (const r of results) summary[r.status]++;
  return summary;
}

const isBad = (r: CheckResult) => r.status === 'fail' || r.status === 'error';

/** Suite order, then id, then target (natural order: w2 before w10). */
export function sortResults(results: CheckResult[], order: readonly string[]): CheckResult[] {
  const rank = new Map(order.map((id, i) => [id, i]));
  return results.sort(
    (a, b) =>
      (rank.get(a.check) ?? Number.MAX_SAFE_INTEGER) - (rank.get(b.check) ?? Number.MAX_SAFE_INTEGER) ||
      a.check.localeCompare(b.check) ||
      natural(a.target, b.target),
  );
}

type Picked<C> = { entry: SuiteEntry; check: C };

/**
 * Runs a suite over hosts: one connection and one collector run per host (bounded concurrency and
 * timeout), node checks on each host's facts, then fleet checks over all reachable hosts, then the
 * cluster checks on one snapshot and the workload scenarios.
 */
export async function runSuite<Api, H extends HostTarget>(options: RunOptions<Api, H>): Promise<RunResult> {
  const now = options.now ?? (() => new Date());
  const startedAt = now();
  const started = performance.now();
  const phase: Phase = options.phase ?? options.suite.phase ?? 'pre';
  const registry = new Map(options.checks.map((c) => [c.id, c]));
  const checks = options.entries.map((e) => {
    const check = registry.get(e.id);
    if (!check) throw new Error(`runSuite: suite entry ${e.id} is not in the check registry`);
    return { entry: e, check };
  });
  const of = <K extends Check<Api>['kind']>(kind: K) => checks.filter((c): c is Picked<Extract<Check<Api>, { kind: K }>> => c.check.kind === kind);
  const nodeChecks = of('node') as Picked<NodeCheck>[];
  const fleetChecks = of('fleet') as Picked<FleetCheck>[];
  const clusterChecks = of('cluster') as Picked<ClusterCheck>[];
  const workloadChecks = of('workload') as Picked<WorkloadCheck<Api>>[];
  const rolesOf = (host: H): Role[] => options.roles ?? options.suite.roles ?? host.roles;

  const results: CheckResult[] = [];
  const members: FleetMember[] = [];
  const unreached = new Map<string, string>();
  const hostInfo = new Map<string, TargetInfo>();
  let done = 0;
  options.onProgress?.({ type: 'start', targets: options.hosts.length, checks: checks.length });

  // One snapshot per run, taken first: cluster checks judge it and host checks learn each node's podCIDRs.
  const scope: SnapshotScope = clusterChecks.length || workloadChecks.length ? 'cluster' : options.hosts.every((h) => h.podCIDRs) ? 'version' : 'nodes';
  const first = options.cluster && (clusterChecks.length || nodeChecks.length || workloadChecks.length) ? await snapshotOnce(options, scope) : undefined;
  const podCIDRs = new Map<string, string[]>(first?.snapshot?.nodes.ok ? first.snapshot.nodes.items.map((n) => [n.name, n.podCIDRs]) : []);
  for (const h of options.hosts) if (h.podCIDRs) podCIDRs.set(h.name, h.podCIDRs);
  const clusterMinor = first?.snapshot?.version.ok ? Number(first.snapshot.version.value.minor.replace(/\D+$/, '')) : undefined;

  // A host that cannot be reached gets one error, on the first of its checks; the others are skipped.
  const hostChecks = [...nodeChecks, ...fleetChecks];
  const unreachedResults = (host: string, reason: string, code: 'unreached' | 'interrupted') =>
    hostChecks.map(({ check }, i) => (i === 0 ? notRun(check, host, code === 'unreached' ? `host not reached: ${reason}` : reason, code) : toResult(check, host, skip(code === 'unreached' ? 'host not reached' : reason, { code }), 0)));

  const needsFacts = hostChecks.length > 0;
  const probeKinds = [...new Set(fleetChecks.flatMap(({ check }) => check.probes ?? []))];
  const keepOpen = probeKinds.length > 0 && options.probeFleet !== undefined && options.hosts.length <= MAX_PROBED_HOSTS && options.hosts.length > 1;
  let fleetShape: FleetShape[] | undefined;
  await forEachLimited(options.hosts, options.concurrency ?? DEFAULT_CONCURRENCY, options.signal, async (host) => {
    let facts: NodeFacts | undefined;
    if (needsFacts) {
      try {
        facts = await options.collect(host, { timeoutMs: options.targetTimeoutMs ?? 60_000, signal: options.signal, phase, ...(keepOpen ? { keepOpen } : {}) });
      } catch (err: unknown) {
        unreached.set(host.name, reasonOf(err));
      }
    }
    hostInfo.set(host.name, {
      name: host.name,
      kind: 'host',
      reached: facts !== undefined,
      ...(facts?.reachedBy ?? host.via ? { reachedBy: facts?.reachedBy ?? host.via } : {}),
      ...(facts?.profile ? { profile: facts.profile.name, cni: facts.profile.cni } : {}),
      ...(unreached.has(host.name) ? { problem: unreached.get(host.name) } : {}),
    });
    const hostResults: CheckResult[] = [];
    if (facts) {
      for (const { entry, check } of nodeChecks) {
        const cidrs = podCIDRs.get(host.name);
        const ctx = { host: host.name, roles: rolesOf(host), phase, params: entry.params, now: now(), ...(cidrs && cidrs.length ? { podCIDRs: cidrs } : {}), ...(clusterMinor !== undefined && Number.isFinite(clusterMinor) ? { clusterMinor } : {}) };
        hostResults.push(judgeNode(check, facts, ctx));
      }
      const member: FleetMember = { host: host.name, roles: rolesOf(host), facts: fleetFactsOf(facts), ...(host.address ? { address: host.address } : {}) };
      members.push(member);
      if (keepOpen) options.beginProbe?.(member, (fleetShape ??= options.hosts.map((h) => ({ host: h.name, roles: rolesOf(h) }))), probeKinds, options.signal);
    } else if (needsFacts) {
      hostResults.push(...unreachedResults(host.name, unreached.get(host.name) ?? 'not reached', 'unreached').filter((r) => nodeChecks.some((c) => c.check.id === r.check)));
    }
    results.push(...hostResults);
    done++;
    options.onProgress?.({
      type: 'target-done',
      target: host.name,
      reached: facts !== undefined,
      failing: hostResults.some(isBad) || (facts === undefined && needsFacts),
      done,
      total: options.hosts.length,
    });
  });

  // Hosts never started because of Ctrl-C still appear, so the report is complete.
  const seen = new Set([...members.map((m) => m.host), ...unreached.keys()]);
  const neverStarted = new Set<string>();
  for (const host of needsFacts && options.signal.aborted ? options.hosts : []) {
    if (seen.has(host.name)) continue;
    neverStarted.add(host.name);
    hostInfo.set(host.name, { name: host.name, kind: 'host', reached: false, problem: 'interrupted before this host was checked' });
    results.push(...unreachedResults(host.name, 'interrupted before this host was checked', 'interrupted').filter((r) => nodeChecks.some((c) => c.check.id === r.check)));
  }

  members.sort((a, b) => natural(a.host, b.host));
  let probes: FleetProbes | undefined;
  if (probeKinds.length && !options.signal.aborted) {
    const skipped = (why: string): FleetProbes => Object.fromEntries(probeKinds.map((k) => [k, { skipped: why }])) as FleetProbes;
    if (!options.probeFleet) probes = skipped('this run cannot make hosts talk to each other');
    else if (members.length < 2) probes = skipped('fewer than two hosts were reached');
    else if (!keepOpen) probes = skipped(`more than ${MAX_PROBED_HOSTS} hosts: probes between every pair are not made (use --limit)`);
    else probes = await options.probeFleet(members, probeKinds, options.signal);
  }
  for (const { entry, check } of fleetChecks) {
    results.push(...judgeFleet(check, members, { phase, params: entry.params, now: now(), ...(probes ? { probes } : {}) }));
  }
  // Unreached hosts' fleet results: the error is already on their first node check, if there is one.
  for (const [host, reason] of [...unreached, ...[...neverStarted].map((h) => [h, 'interrupted before this host was checked'] as const)]) {
    const code = neverStarted.has(host) ? 'interrupted' : 'unreached';
    results.push(...unreachedResults(host, reason, code).filter((r) => fleetChecks.some((c) => c.check.id === r.check)));
  }

  let clusterReached: boolean | undefined;
  let clusterProblem: string | undefined;
  if (clusterChecks.length && !options.signal.aborted) {
    const outcome = await runClusterChecks(clusterChecks, options, now, first);
    results.push(...outcome.results);
    clusterReached = outcome.reached;
  }
  if (workloadChecks.length) {
    const outcome = await runWorkloadChecks(workloadChecks, options, now, first);
    results.push(...outcome.results);
    clusterReached = (clusterReached ?? false) || outcome.reached;
  }
  if (clusterReached === false) clusterProblem = notReached(options, first);

  const interrupted = options.signal.aborted;
  const order = options.entries.map((e) => e.id);
  sortResults(results, order.length ? order : options.checks.map((c) => c.id));
  const targets: TargetInfo[] = [
    ...options.hosts.map((h) => hostInfo.get(h.name)).filter((t): t is TargetInfo => t !== undefined).sort((a, b) => natural(a.name, b.name)),
    ...(clusterReached === undefined ? [] : [{ name: 'cluster', kind: 'cluster' as const, reached: clusterReached, reachedBy: 'api' as const, ...(first?.snapshot?.profile ? { profile: first.snapshot.profile.name, cni: first.snapshot.profile.cni } : {}), ...(clusterProblem ? { problem: clusterProblem } : {}) }]),
  ];
  return {
    schemaVersion: 1,
    tool: { name: 'kubecheck', version: options.version },
    command: options.command,
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(performance.now() - started),
    summary: summarize(results),
    results,
    suite: options.suite.name,
    ...(options.parameters || first?.snapshot?.version.ok
      ? { parameters: { ...(options.parameters ?? {}), ...(first?.snapshot?.version.ok ? { clusterVersion: first.snapshot.version.value.gitVersion, server: first.snapshot.server } : {}) } }
      : {}),
    ...(interrupted ? { interrupted: true } : {}),
    targets,
  };
}

/** Takes the cluster snapshot with the run's timeout; an API server that answers nothing is "not reached". */
async function snapshotOnce(options: { cluster?: ClusterSource<unknown>; targetTimeoutMs?: number; signal: AbortSignal }, scope: SnapshotScope = 'cluster'): Promise<{ snapshot?: ClusterSnapshot; unreachable?: string }> {
  const timeout = options.targetTimeoutMs ?? 60_000;
  try {
    const snapshot = await withTimeout(options.cluster!.snapshot(options.signal, scope), timeout, options.signal, 'reading the cluster');
    if (!snapshot.version.ok && snapshot.version.reason === 'error' && !snapshot.nodes.ok && !snapshot.nodes.forbidden) {
      return { unreachable: snapshot.version.detail };
    }
    return { snapshot };
  } catch (err: unknown) {
    return { unreachable: reasonOf(err) };
  }
}

/** Why cluster-side checks cannot run: no cluster given, or it did not answer. */
function notReached(options: { cluster?: unknown }, first: { unreachable?: string } | undefined): string {
  return options.cluster && first ? `cluster not reached: ${first.unreachable}` : 'no cluster to check: give --kubeconfig (or KUBECONFIG, or run in a pod)';
}

function clusterErrors(checks: readonly { check: Pick<NodeCheck, 'id' | 'codes' | 'remediation'> }[], message: string, code = 'unreached'): CheckResult[] {
  return checks.map(({ check }) => notRun(check, 'cluster', message, code));
}

/** A result from a retry: it records the attempt, and a pass is marked flaky. */
function fromAttempt(result: CheckResult, attempt: number): CheckResult {
  return isBad(result) ? { ...result, attempts: attempt } : { ...result, attempts: attempt, message: `${result.message} (passed on attempt ${attempt}: flaky)` };
}

async function runClusterChecks<Api, H extends HostTarget>(
  checks: Picked<ClusterCheck>[],
  options: RunOptions<Api, H>,
  now: () => Date,
  first: { snapshot?: ClusterSnapshot; unreachable?: string } | undefined,
): Promise<{ results: CheckResult[]; reached: boolean }> {
  if (!first?.snapshot) return { results: clusterErrors(checks, notReached(options, first)), reached: false };
  let snapshot = first.snapshot;
  let results = checks.flatMap(({ entry, check }) => judgeCluster(check, entry.params, snapshot, now));
  // Timing-dependent cluster results get more tries on a fresh snapshot; a pass on retry is marked flaky.
  for (let attempt = 2; attempt <= (options.retries ?? 0) + 1 && results.some(isBad) && !options.signal.aborted; attempt++) {
    const failing = new Set(results.filter(isBad).map((r) => r.check));
    await new Promise((r) => setTimeout(r, Math.min(1000 * 2 ** (attempt - 2), 10_000)));
    const again = await snapshotOnce(options);
    if (!again.snapshot) continue;
    snapshot = again.snapshot;
    const retried = checks.filter(({ check }) => failing.has(check.id)).flatMap(({ entry, check }) => judgeCluster(check, entry.params, snapshot, now));
    const byKey = new Map(retried.map((r) => [`${r.check}\u0000${r.target}`, r]));
    results = results.map((r) => {
      if (!isBad(r)) return r;
      const next = byKey.get(`${r.check}\u0000${r.target}`);
      return next ? fromAttempt(next, attempt) : r;
    });
  }
  return { results, reached: true };
}

/**
 * Workload scenarios run side by side (each in its own namespace). A failing one runs again from the
 * start with --retries; a pass on retry is marked flaky. An exception is an `error` for that scenario.
 */
async function runWorkloadChecks<Api, H extends HostTarget>(
  checks: Picked<WorkloadCheck<Api>>[],
  options: RunOptions<Api, H>,
  now: () => Date,
  first: { snapshot?: ClusterSnapshot; unreachable?: string } | undefined,
): Promise<{ results: CheckResult[]; reached: boolean }> {
  const api = options.cluster?.api;
  if (!first?.snapshot) return { results: clusterErrors(checks, notReached(options, first)), reached: false };
  if (api === undefined) return { results: clusterErrors(checks, 'the cluster source has no API client to run scenarios with', 'error'), reached: false };
  if (options.signal.aborted) return { results: clusterErrors(checks, 'interrupted before this scenario ran', 'interrupted'), reached: true };
  const results = await Promise.all(checks.map(async ({ entry, check }) => {
    let result: CheckResult | undefined;
    for (let attempt = 1; attempt <= (options.retries ?? 0) + 1; attempt++) {
      result = await judgeWorkload(check, { api, params: entry.params, settings: options.workloadSettings ?? {}, signal: options.signal, now });
      if (attempt > 1) result = fromAttempt(result, attempt);
      if (!isBad(result) || options.signal.aborted) break;
    }
    return result!;
  }));
  return { results, reached: true };
}

export type FailOn = 'fail' | 'warn';

/**
 * The exit code of a finished run: 130 interrupted, 3 nothing reachable, 1 failures, 0 otherwise. Under
 * a baseline gate, 1 only when something is new or got worse.
 */
export function exitCodeOf(run: RunResult, failOn: FailOn = 'fail'): number {
  if (run.interrupted) return 130;
  if (run.targets && run.targets.length > 0 && !run.targets.some((t) => t.reached)) return 3;
  if (run.baseline) return run.baseline.regressed ? 1 : 0;
  const bad: Status[] = failOn === 'warn' ? ['fail', 'error', 'warn'] : ['fail', 'error'];
  return run.results.some((r) => bad.includes(r.status)) ? 1 : 0;
}
