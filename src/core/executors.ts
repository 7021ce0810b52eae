// One executor per check kind, all through one wrapper (`measure`): it times the check, turns an
// exception into an `error` result for that check and target only, and qualifies the finding's code with
// the check's id. The runner, the doctor and the fixes all judge through these.
import type { ClusterSnapshot } from './cluster.js';
import type { NodeFacts } from './facts.js';
import { GENERIC_CODES, error } from './findings.js';
import type { CheckResult, ClusterCheck, Finding, FleetCheck, FleetContext, FleetMember, HostContext, NodeCheck, WorkloadCheck, WorkloadContext } from './types.js';

/** What a check is, for the results it produces: its id, its codes and its generic remediation. */
type CheckInfo = Pick<NodeCheck, 'id' | 'codes' | 'remediation'>;

/** A readable reason from an exception: our own errors by their message, others with their name. */
export function reasonOf(err: unknown): string {
  if (err instanceof Error) return ['Error', 'TransportError', 'InterruptedError'].includes(err.name) ? err.message : `${err.name}: ${err.message}`;
  return String(err);
}

/**
 * The qualified codes of a finding (`node.swap/swap-on`). A code the check does not declare (nor a
 * generic one) is a bug in the check: the result says so instead of carrying an unknown code.
 */
function qualify(check: CheckInfo, finding: Finding): { code?: string; codes?: string[]; undeclared?: string } {
  if (finding.status === 'pass') return {};
  const short = finding.codes ?? [finding.code ?? (finding.status === 'skip' ? 'not-applicable' : 'error')];
  const undeclared = short.find((c) => !(c in check.codes) && !(c in GENERIC_CODES));
  const codes = short.map((c) => `${check.id}/${c}`);
  return { code: codes[0], ...(codes.length > 1 ? { codes } : {}), ...(undeclared ? { undeclared } : {}) };
}

/** A finding placed on a target: the result the reports show. */
export function toResult(check: CheckInfo, target: string, finding: Finding, durationMs: number): CheckResult {
  const q = qualify(check, finding);
  if (q.undeclared) {
    return { check: check.id, target, status: 'error', message: `the check returned a code it does not declare (${q.undeclared}): ${finding.message}`, code: `${check.id}/crashed`, durationMs };
  }
  return {
    check: check.id,
    target,
    status: finding.status,
    message: finding.message,
    ...(q.code ? { code: q.code } : {}),
    ...(q.codes ? { codes: q.codes } : {}),
    ...(finding.evidence && Object.keys(finding.evidence).length ? { evidence: finding.evidence } : {}),
    ...(finding.status !== 'pass' && finding.status !== 'skip' ? { remediation: finding.remediation ?? check.remediation } : {}),
    durationMs,
    ...(finding.steps ? { steps: finding.steps } : {}),
  };
}

/** A result for a check that could not run on a target at all (host not reached, interrupted…). */
export const notRun = (check: CheckInfo, target: string, message: string, code: string): CheckResult => toResult(check, target, error(message, { code }), 0);

/** Runs `judge`, timing it; an exception becomes `crashed` (the message says what threw). */
async function measure<T>(judge: () => T | Promise<T>, crashed: (reason: string) => T): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  let value: T;
  try {
    value = await judge();
  } catch (err: unknown) {
    value = crashed(reasonOf(err));
  }
  return { value, ms: Math.round(performance.now() - started) };
}

/** The same wrapper for the pure (synchronous) check kinds. */
function measureSync<T>(judge: () => T, crashed: (reason: string) => T): { value: T; ms: number } {
  const started = performance.now();
  let value: T;
  try {
    value = judge();
  } catch (err: unknown) {
    value = crashed(reasonOf(err));
  }
  return { value, ms: Math.round(performance.now() - started) };
}

const crash = (reason: string) => error(`the check crashed: ${reason}`, { code: 'crashed' });

/** A node check on one host's facts. */
export function judgeNode(check: NodeCheck, facts: NodeFacts, ctx: HostContext): CheckResult {
  const { value, ms } = measureSync(() => check.run(facts, ctx), crash);
  return toResult(check, ctx.host, value, ms);
}

/** A fleet check over every reached host: one result per host it judges (a crash: an error for each). */
export function judgeFleet(check: FleetCheck, members: readonly FleetMember[], ctx: FleetContext): CheckResult[] {
  const { value, ms } = measureSync(
    () => (members.length ? check.run(members, ctx) : new Map<string, Finding>()),
    (reason) => new Map(members.map((m) => [m.host, crash(reason)])),
  );
  return [...value].map(([target, finding]) => toResult(check, target, finding, ms));
}

/** A cluster check on the snapshot: one finding becomes target `cluster`, a map one result per node. */
export function judgeCluster(check: ClusterCheck, params: Record<string, unknown>, snapshot: ClusterSnapshot, now: () => Date): CheckResult[] {
  const { value, ms } = measureSync<Finding | Map<string, Finding>>(() => check.run(snapshot, { params, now: now() }), crash);
  if (value instanceof Map) return [...value].map(([target, f]) => toResult(check, target, f, ms));
  return [toResult(check, 'cluster', value, ms)];
}

/** A workload scenario (target `cluster`). */
export async function judgeWorkload<Api>(check: WorkloadCheck<Api>, ctx: WorkloadContext<Api>): Promise<CheckResult> {
  const { value, ms } = await measure(() => check.run(ctx), (reason) => error(`the scenario crashed: ${reason}`, { code: 'crashed' }));
  return toResult(check, 'cluster', value, ms);
}
