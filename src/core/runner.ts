import { CHECKS, findCheck } from '../../checks/index.js';
import { collectNodeFacts } from '../collectors/node/index.js';
import type { NodeFacts } from './facts.js';
import { GENERIC_CODES, error } from './findings.js';
import { deadline, forEachLimited, InterruptedError, withTimeout } from './pool.js';
import type { Suite, SuiteEntry } from '../suites/load.js';
import type { Transport } from '../transports/types.js';
import { TransportError } from '../transports/types.js';
import type { ClusterSnapshot } from '../k8s/snapshot.js';
import type { KubeApi } from '../k8s/api.js';
import type {
  Check,
  CheckResult,
  ClusterCheck,
  Finding,
  FleetCheck,
  FleetContext,
  FleetMember,
  HostContext,
  NodeCheck,
  Phase,
  WorkloadCheck,
  WorkloadSettings,
  Role,
  RunResult,
  Status,
  Summary,
} from './types.js';
import { STATUSES } from './types.js';
import { natural } from './order.js';

/** A host to check: its name in reports, its roles, and how to open its one connection for this run. */
export interface HostTarget {
  name: string;
  /** The address connected to, so doctor can match a host to a node by address. */
  address?: string;
  roles: Role[];
  open(signal: AbortSignal): Promise<Transport>;
}

export type ProgressEvent =
  | { type: 'start'; targets: number; checks: number }
  | { type: 'target-done'; target: string; reached: boolean; failing: boolean; done: number; total: number };

/** Where cluster checks get their snapshot (taken once per run; again only for --retries). */
export interface ClusterSource {
  snapshot(signal: AbortSignal): Promise<ClusterSnapshot>;
  /** The API client workload scenarios run with (they write: their own namespace only). */
  api?: KubeApi;
}

export interface RunOptions {
  command: string;
  cluster?: ClusterSource;
  /** Re-run failing cluster checks on a fresh snapshot (and failing scenarios) up to this many times (never node facts). */
  retries?: number;
  /** Settings every workload scenario gets (the suite's `workloads:` block and --image-registry). */
  workloadSettings?: WorkloadSettings;
  suite: Suite;
  /** The suite's entries after --only/--skip. */
  entries: SuiteEntry[];
  hosts: HostTarget[];
  phase?: Phase;
  /** Judge every host with these roles (--role, or the suite's roles). */
  roles?: Role[];
  concurrency?: number;
  /** Time for one host's connection and collection. */
  targetTimeoutMs?: number;
  /** Time for one check on one target. */
  checkTimeoutMs?: number;
  signal: AbortSignal;
  now?: () => Date;
  version: string;
  parameters?: Record<string, string>;
  onProgress?: (event: ProgressEvent) => void;
}

export const DEFAULT_CONCURRENCY = 32;


export function reasonOf(err: unknown): string {
  if (err instanceof TransportError || err instanceof InterruptedError) return err.message;
  if (err instanceof Error) return `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}`;
  return String(err);
}

/**
 * The qualified codes of a finding (`node.swap/swap-on`). A code the check does not declare (nor a
 * generic one) is a bug in the check: the result says so instead of carrying an unknown code.
 */
function qualify(check: string, finding: Finding): { code?: string; codes?: string[]; undeclared?: string } {
  if (finding.status === 'pass') return {};
  const declared = findCheck(check)?.codes;
  const short = finding.codes ?? [finding.code ?? (finding.status === 'skip' ? 'not-applicable' : 'error')];
  const undeclared = declared ? short.find((c) => !(c in declared) && !(c in GENERIC_CODES)) : undefined;
  const codes = short.map((c) => `${check}/${c}`);
  return { code: codes[0], ...(codes.length > 1 ? { codes } : {}), ...(undeclared ? { undeclared } : {}) };
}

function toResult(check: string, target: string, finding: Finding, durationMs: number): CheckResult {
  const q = qualify(check, finding);
  if (q.undeclared) {
    return { check, target, status: 'error', message: `the check returned a code it does not declare (${q.undeclared}): ${finding.message}`, code: `${check}/crashed`, durationMs };
  }
  return {
    check,
    target,
    status: finding.status,
    message: finding.message,
    ...(q.code ? { code: q.code } : {}),
    ...(q.codes ? { codes: q.codes } : {}),
    ...(finding.evidence && Object.keys(finding.evidence).length ? { evidence: finding.evidence } : {}),
    ...(finding.status !== 'pass' && finding.status !== 'skip' ? { remediation: finding.remediation ?? findCheck(check)?.remediation } : {}),
    durationMs,
    ...(finding.steps ? { steps: finding.steps } : {}),
  };
}

/** Runs one node check on one host's facts: the one executor for node checks (the runner, doctor and fixes use it). */
export function judgeNode(check: NodeCheck, facts: NodeFacts, ctx: HostContext): CheckResult {
  return judge(() => check.run(facts, ctx), check.id, ctx.host);
}

/** Runs one fleet check over every reached host: one result per host it judges (a crash: an error for each). */
export function judgeFleet(check: FleetCheck, members: readonly FleetMember[], ctx: FleetContext): CheckResult[] {
  const started = performance.now();
  let findings: Map<string, Finding>;
  try {
    findings = members.length ? check.run(members, ctx) : new Map();
  } catch (err: unknown) {
    const crash = error(`the check crashed: ${reasonOf(err)}`, { code: 'crashed' });
    findings = new Map(members.map((m) => [m.host, crash]));
  }
  const ms = Math.round(performance.now() - started);
  return [...findings].map(([target, finding]) => toResult(check.id, target, finding, ms));
}

/** Runs one check, turning any exception into an `error` finding for this check and target only. */
function judge(run: () => Finding, check: string, target: string): CheckResult {
  const started = performance.now();
  let finding: Finding;
  try {
    finding = run();
  } catch (err: unknown) {
    finding = error(`the check crashed: ${reasonOf(err)}`, { code: 'crashed' });
  }
  return toResult(check, target, finding, Math.round(performance.now() - started));
}

export function summarize(results: readonly CheckResult[]): Summary {
  const summary = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Summary;
  for (const r of results) summary[r.status]++;
  return summary;
}

/**
 * Opens a host's one connection, runs the node collector on it and closes it, within `timeoutMs` or
 * until `signal` aborts; the connection closes whichever way it ends (even one that opens too late).
 */
export async function collectFromHost(host: HostTarget, options: { timeoutMs: number; signal: AbortSignal; kubeletLog?: boolean }): Promise<NodeFacts> {
  const limit = deadline(options.signal, options.timeoutMs);
  const signal = limit.signal;
  let transport: Transport | undefined;
  const collect = async () => {
    const opened = await host.open(signal);
    transport = opened;
    if (signal.aborted) throw new InterruptedError('interrupted');
    return collectNodeFacts(opened, { timeoutMs: options.timeoutMs, signal, ...(options.kubeletLog ? { kubeletLog: true } : {}) });
  };
  try {
    return await withTimeout(collect(), options.timeoutMs, options.signal, `connecting to ${host.name} and collecting facts`);
  } finally {
    limit.clear();
    await (transport as Transport | undefined)?.close().catch(() => undefined);
  }
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

/**
 * Runs a suite over hosts: one connection and one collector run per host (bounded concurrency and
 * timeout), node checks on each host's facts, then fleet checks over all reachable hosts.
 */
export async function runSuite(options: RunOptions): Promise<RunResult> {
  const now = options.now ?? (() => new Date());
  const startedAt = now();
  const started = performance.now();
  const phase: Phase = options.phase ?? options.suite.phase ?? 'pre';
  const checks = options.entries.map((e) => ({ entry: e, check: findCheck(e.id) as Check }));
  const nodeChecks = checks.filter((c): c is { entry: SuiteEntry; check: NodeCheck } => c.check.kind === 'node');
  const fleetChecks = checks.filter((c): c is { entry: SuiteEntry; check: FleetCheck } => c.check.kind === 'fleet');
  const rolesOf = (host: HostTarget): Role[] => options.roles ?? options.suite.roles ?? host.roles;

  const results: CheckResult[] = [];
  const members: FleetMember[] = [];
  const unreached = new Map<string, string>();
  let done = 0;
  options.onProgress?.({ type: 'start', targets: options.hosts.length, checks: checks.length });

  const clusterChecks = checks.filter((c): c is { entry: SuiteEntry; check: ClusterCheck } => c.check.kind === 'cluster');
  // One snapshot per run, taken first: cluster checks judge it and host checks learn each node's podCIDRs.
  const workloadChecks = checks.filter((c): c is { entry: SuiteEntry; check: WorkloadCheck } => c.check.kind === 'workload');
  const first = options.cluster && (clusterChecks.length || nodeChecks.length || workloadChecks.length) ? await snapshotOnce(options) : undefined;
  const podCIDRs = new Map<string, string[]>(first?.snapshot?.nodes.ok ? first.snapshot.nodes.items.map((n) => [n.name, n.podCIDRs]) : []);

  const needsFacts = nodeChecks.length + fleetChecks.length > 0;
  await forEachLimited(options.hosts, options.concurrency ?? DEFAULT_CONCURRENCY, options.signal, async (host) => {
    let facts: NodeFacts | undefined;
    if (needsFacts) {
      try {
        facts = await collectFromHost(host, { timeoutMs: options.targetTimeoutMs ?? 60_000, signal: options.signal });
      } catch (err: unknown) {
        unreached.set(host.name, reasonOf(err));
      }
    }
    const hostResults: CheckResult[] = [];
    for (const { entry, check } of nodeChecks) {
      if (!facts) {
        hostResults.push(toResult(check.id, host.name, error(`host not reached: ${unreached.get(host.name)}`, { code: 'unreached' }), 0));
        continue;
      }
      const cidrs = podCIDRs.get(host.name);
      const ctx = { host: host.name, roles: rolesOf(host), phase, params: entry.params, now: now(), ...(cidrs && cidrs.length ? { podCIDRs: cidrs } : {}) };
      hostResults.push(judgeNode(check, facts, ctx));
    }
    if (facts) members.push({ host: host.name, roles: rolesOf(host), facts });
    results.push(...hostResults);
    done++;
    options.onProgress?.({
      type: 'target-done',
      target: host.name,
      reached: facts !== undefined,
      failing: hostResults.some(isBad),
      done,
      total: options.hosts.length,
    });
  });

  // Hosts never started because of Ctrl-C still appear, as errors, so the report is complete.
  const seen = new Set([...members.map((m) => m.host), ...unreached.keys()]);
  for (const host of needsFacts && options.signal.aborted ? options.hosts : []) {
    if (seen.has(host.name)) continue;
    unreached.set(host.name, 'interrupted before this host was checked');
    for (const { check } of nodeChecks) results.push(toResult(check.id, host.name, error('interrupted before this host was checked', { code: 'interrupted' }), 0));
  }

  members.sort((a, b) => natural(a.host, b.host));
  for (const { entry, check } of fleetChecks) {
    results.push(...judgeFleet(check, members, { phase, params: entry.params, now: now() }));
    for (const [host, reason] of unreached) results.push(toResult(check.id, host, error(`host not reached: ${reason}`, { code: 'unreached' }), 0));
  }

  let clusterReached: boolean | undefined;
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

  const interrupted = options.signal.aborted;
  const order = options.entries.map((e) => e.id);
  sortResults(results, order.length ? order : CHECKS.map((c) => c.id));
  const total = options.hosts.length + (clusterReached === undefined ? 0 : 1);
  const reached = options.hosts.length - unreached.size + (clusterReached ? 1 : 0);
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
    targets: { total, reached },
  };
}

/** Cluster checks judge one snapshot; one finding becomes target `cluster`, a map one result per node. */
export function judgeCluster(check: ClusterCheck, params: Record<string, unknown>, snapshot: ClusterSnapshot, now: () => Date): CheckResult[] {
  const started = performance.now();
  let outcome: Finding | Map<string, Finding>;
  try {
    outcome = check.run(snapshot, { params, now: now() });
  } catch (err: unknown) {
    outcome = error(`the check crashed: ${reasonOf(err)}`, { code: 'crashed' });
  }
  const ms = Math.round(performance.now() - started);
  if (outcome instanceof Map) return [...outcome].map(([target, f]) => toResult(check.id, target, f, ms));
  return [toResult(check.id, 'cluster', outcome, ms)];
}

/** Takes the cluster snapshot with the run's timeout; an API server that answers nothing is "not reached". */
async function snapshotOnce(options: RunOptions): Promise<{ snapshot?: ClusterSnapshot; unreachable?: string }> {
  const timeout = options.targetTimeoutMs ?? 60_000;
  try {
    const snapshot = await withTimeout(options.cluster!.snapshot(options.signal), timeout, options.signal, 'reading the cluster');
    if (!snapshot.version.ok && snapshot.version.reason === 'error' && !snapshot.nodes.ok && !snapshot.nodes.forbidden) {
      return { unreachable: snapshot.version.detail };
    }
    return { snapshot };
  } catch (err: unknown) {
    return { unreachable: reasonOf(err) };
  }
}

/** Why cluster-side checks cannot run: no cluster given, or it did not answer. */
function notReached(options: RunOptions, first: { unreachable?: string } | undefined): string {
  return options.cluster && first ? `cluster not reached: ${first.unreachable}` : 'no cluster to check: give --kubeconfig (or KUBECONFIG, or run in a pod)';
}

function clusterErrors(checks: readonly { check: Check }[], message: string, code = 'unreached'): CheckResult[] {
  return checks.map(({ check }) => toResult(check.id, 'cluster', error(message, { code }), 0));
}

/** A result from a retry: it records the attempt, and a pass is marked flaky. */
function fromAttempt(result: CheckResult, attempt: number): CheckResult {
  return isBad(result) ? { ...result, attempts: attempt } : { ...result, attempts: attempt, message: `${result.message} (passed on attempt ${attempt}: flaky)` };
}

async function runClusterChecks(
  checks: { entry: SuiteEntry; check: ClusterCheck }[],
  options: RunOptions,
  now: () => Date,
  first: { snapshot?: ClusterSnapshot; unreachable?: string } | undefined,
): Promise<{ results: CheckResult[]; reached: boolean }> {
  if (!first?.snapshot) return { results: clusterErrors(checks, notReached(options, first)), reached: false };
  let snapshot = first.snapshot;
  const take = async () => {
    const again = await snapshotOnce(options);
    if (!again.snapshot) throw new Error(again.unreachable);
    return again.snapshot;
  };
  let results = checks.flatMap(({ entry, check }) => judgeCluster(check, entry.params, snapshot, now));
  // Timing-dependent cluster results get more tries on a fresh snapshot; a pass on retry is marked flaky.
  for (let attempt = 2; attempt <= (options.retries ?? 0) + 1 && results.some(isBad) && !options.signal.aborted; attempt++) {
    const failing = new Set(results.filter(isBad).map((r) => r.check));
    await new Promise((r) => setTimeout(r, Math.min(1000 * 2 ** (attempt - 2), 10_000)));
    try {
      snapshot = await take();
    } catch {
      continue;
    }
    const again = checks.filter(({ check }) => failing.has(check.id)).flatMap(({ entry, check }) => judgeCluster(check, entry.params, snapshot, now));
    const byKey = new Map(again.map((r) => [`${r.check}\u0000${r.target}`, r]));
    results = results.map((r) => {
      if (!isBad(r)) return r;
      const retried = byKey.get(`${r.check}\u0000${r.target}`);
      return retried ? fromAttempt(retried, attempt) : r;
    });
  }
  return { results, reached: true };
}

/**
 * Workload scenarios run side by side (each in its own namespace). A failing one runs again from the
 * start with --retries; a pass on retry is marked flaky. An exception is an `error` for that scenario.
 */
async function runWorkloadChecks(
  checks: { entry: SuiteEntry; check: WorkloadCheck }[],
  options: RunOptions,
  now: () => Date,
  first: { snapshot?: ClusterSnapshot; unreachable?: string } | undefined,
): Promise<{ results: CheckResult[]; reached: boolean }> {
  const api = options.cluster?.api;
  if (!first?.snapshot) return { results: clusterErrors(checks, notReached(options, first)), reached: false };
  if (!api) return { results: clusterErrors(checks, 'the cluster source has no API client to run scenarios with', 'error'), reached: false };
  if (options.signal.aborted) return { results: clusterErrors(checks, 'interrupted before this scenario ran', 'interrupted'), reached: true };
  const results = await Promise.all(checks.map(async ({ entry, check }) => {
    let result: CheckResult | undefined;
    for (let attempt = 1; attempt <= (options.retries ?? 0) + 1; attempt++) {
      const started = performance.now();
      let finding: Finding;
      try {
        finding = await check.run({ api, params: entry.params, settings: options.workloadSettings ?? {}, signal: options.signal, now });
      } catch (err: unknown) {
        finding = error(`the scenario crashed: ${reasonOf(err)}`, { code: 'crashed' });
      }
      result = toResult(check.id, 'cluster', finding, Math.round(performance.now() - started));
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
  if (run.targets && run.targets.total > 0 && run.targets.reached === 0) return 3;
  if (run.baseline) return run.baseline.regressed ? 1 : 0;
  const bad: Status[] = failOn === 'warn' ? ['fail', 'error', 'warn'] : ['fail', 'error'];
  return run.results.some((r) => bad.includes(r.status)) ? 1 : 0;
}
