// Regression gates: compare a run with a saved JSON report, by check id + target, whatever the order and
// whichever hosts came or went. Only what got worse fails the gate; known failures are reported.
import { readFileSync } from 'node:fs';
import type { ValidateFunction } from 'ajv';
import { assetPath } from './assets.js';
import { InputError } from './errors.js';
import { natural } from './order.js';
import { compileSchema } from './schema.js';
import type { CheckResult, RunResult, Status } from './types.js';

export type ChangeKind = 'new' | 'worse' | 'fixed' | 'improved' | 'known' | 'unchanged' | 'added' | 'removed';

export interface Change {
  check: string;
  target: string;
  kind: ChangeKind;
  before?: Status;
  after?: Status;
  /** The current message (or the old one for removed results). */
  message: string;
  remediation?: string;
}

export interface Comparison {
  baseline: string;
  counts: Record<ChangeKind, number>;
  /** Every result with its kind, sorted by check then target; unchanged ones included. */
  changes: Change[];
  addedTargets: string[];
  removedTargets: string[];
  /** Whether anything is new or worse: what fails a gate. */
  regressed: boolean;
}

const BAD: readonly Status[] = ['fail', 'error'];
const isBad = (s: Status | undefined) => s !== undefined && BAD.includes(s);
const isOk = (s: Status | undefined) => s === undefined || s === 'pass' || s === 'skip';

/** How one result moved between two runs. */
export function classify(before: Status | undefined, after: Status | undefined): ChangeKind {
  if (after === undefined) return 'removed';
  if (isBad(after)) return isBad(before) ? 'known' : 'new';
  if (after === 'warn') return before === 'warn' ? 'known' : isBad(before) ? 'improved' : before === undefined ? 'new' : 'worse';
  if (before === undefined) return 'added';
  return isOk(before) ? 'unchanged' : 'fixed';
}

const key = (r: { check: string; target: string }) => `${r.check}\u0000${r.target}`;

export function compareRuns(before: Pick<RunResult, 'results'>, after: Pick<RunResult, 'results'>, baseline: string): Comparison {
  const old = new Map(before.results.map((r) => [key(r), r]));
  const now = new Map(after.results.map((r) => [key(r), r]));
  const changes: Change[] = [];
  for (const [k, r] of now) {
    const prev = old.get(k);
    changes.push({
      check: r.check,
      target: r.target,
      kind: classify(prev?.status, r.status),
      ...(prev ? { before: prev.status } : {}),
      after: r.status,
      message: r.message,
      ...(r.remediation ? { remediation: r.remediation } : {}),
    });
  }
  for (const [k, r] of old) {
    if (!now.has(k)) changes.push({ check: r.check, target: r.target, kind: 'removed', before: r.status, message: r.message });
  }
  changes.sort((a, b) => a.check.localeCompare(b.check) || natural(a.target, b.target));
  const targetsOf = (results: readonly CheckResult[]) => new Set(results.map((r) => r.target));
  const oldTargets = targetsOf(before.results);
  const newTargets = targetsOf(after.results);
  const counts = { new: 0, worse: 0, fixed: 0, improved: 0, known: 0, unchanged: 0, added: 0, removed: 0 } as Record<ChangeKind, number>;
  for (const c of changes) counts[c.kind]++;
  return {
    baseline,
    counts,
    changes,
    addedTargets: [...newTargets].filter((t) => !oldTargets.has(t)).sort(natural),
    removedTargets: [...oldTargets].filter((t) => !newTargets.has(t)).sort(natural),
    regressed: counts.new + counts.worse > 0,
  };
}

let validateReport: ValidateFunction | undefined;

/** Reads a saved JSON report (a baseline, or either side of a diff), validated against the report schema. */
export function loadReport(file: string, flag: string): RunResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err: unknown) {
    throw new InputError([{ file, message: `${flag}: cannot read the report (${(err as NodeJS.ErrnoException).code ?? String(err)})` }]);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err: unknown) {
    throw new InputError([{ file, message: `${flag}: not JSON: ${(err as Error).message}` }]);
  }
  validateReport ??= compileSchema(JSON.parse(readFileSync(assetPath('reporters/report.schema.json'), 'utf8')));
  if (!validateReport(value)) {
    throw new InputError((validateReport.errors ?? []).slice(0, 10).map((e) => ({ file, path: e.instancePath || '/', message: `${flag}: not a kubecheck JSON report: ${e.message ?? 'invalid'}` })));
  }
  return value as RunResult;
}
