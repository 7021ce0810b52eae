import type { Probe } from './facts.js';
import type { Finding, Status } from './types.js';
import { SEVERITY } from './types.js';

type Extra = Pick<Finding, 'evidence' | 'remediation'>;
/** A warning or failure always says what it found, by code. */
type Coded = Extra & { code: string };

/**
 * Codes any check may give without declaring them: the check could not judge (`unreadable`, `error`),
 * the host or cluster was not there (`unreached`), it crashed, or it does not apply (`not-applicable`).
 */
export const GENERIC_CODES: Record<string, string> = {
  error: 'the check could not run (the message says why)',
  unreadable: 'a fact the check needs could not be read on the host',
  unreached: 'the host (or the cluster) could not be reached',
  forbidden: 'the API refused a list the check needs (RBAC)',
  crashed: 'the check itself failed (a bug): reported instead of a verdict',
  interrupted: 'the run was interrupted before this check ran',
  'not-applicable': 'the check does not apply here (the message says why)',
};

export const pass = (message: string, extra: Extra = {}): Finding => ({ status: 'pass', message, ...extra });
export const warn = (message: string, extra: Coded): Finding => ({ status: 'warn', message, ...extra });
export const fail = (message: string, extra: Coded): Finding => ({ status: 'fail', message, ...extra });
export const skip = (message: string, extra: Extra & { code?: string } = {}): Finding => ({ status: 'skip', message, code: 'not-applicable', ...extra });
export const error = (message: string, extra: Extra & { code?: string } = {}): Finding => ({ status: 'error', message, code: 'error', ...extra });

/** The finding for a fact that could not be read: the check could not run, and says why. */
export function unreadable(probe: Extract<Probe<unknown>, { ok: false }>, what: string): Finding {
  const hint = probe.reason === 'denied' ? ' (run as root, or with sudo over SSH)' : '';
  return error(`cannot read ${what}: ${probe.detail}${hint}`, { code: 'unreadable' });
}

export function worst(statuses: Iterable<Status>): Status {
  let out: Status = 'pass';
  let seen = false;
  for (const s of statuses) {
    if (!seen || SEVERITY[s] > SEVERITY[out] || (SEVERITY[s] === SEVERITY[out] && s === 'error')) out = s;
    seen = true;
  }
  return out;
}

/** Several problems found by one check on one target become one finding: the worst status, every message. */
export function combine(findings: Finding[], whenEmpty: Finding): Finding {
  const problems = findings.filter((f) => f.status !== 'pass');
  if (problems.length === 0) return whenEmpty;
  const status = worst(problems.map((f) => f.status));
  const ordered = [...problems].sort((a, b) => SEVERITY[b.status] - SEVERITY[a.status]);
  const evidence = Object.assign({}, ...ordered.map((f) => f.evidence ?? {})) as Record<string, string>;
  const remediations = [...new Set(ordered.map((f) => f.remediation).filter((r): r is string => !!r))];
  const codes = [...new Set(ordered.flatMap((f) => f.codes ?? (f.code ? [f.code] : [])))];
  return {
    status,
    message: ordered.map((f) => f.message).join('; '),
    ...(codes.length ? { code: codes[0] } : {}),
    ...(codes.length > 1 ? { codes } : {}),
    ...(Object.keys(evidence).length ? { evidence } : {}),
    ...(remediations.length ? { remediation: remediations.join('\n') } : {}),
  };
}

/** The error finding for a list the API refused or could not serve, naming the missing permission. */
export function listFailure(listed: { ok: false; detail: string; forbidden: boolean }, what: string): Finding {
  return listed.forbidden
    ? error(`permission denied: cannot ${what} (${listed.detail}); grant it with deploy/rbac/kubecheck-smoke.yaml`, { code: 'forbidden' })
    : error(`cannot ${what}: ${listed.detail}`);
}

/** How long ago an RFC 3339 time was, in whole seconds. */
export const ageSeconds = (time: string | undefined, now: Date): number | undefined =>
  time ? Math.round((now.getTime() - Date.parse(time)) / 1000) : undefined;

export function formatAge(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} days`;
}
