import type { ClusterSnapshot } from '../../src/k8s/snapshot.js';
import type { ClusterContext, Finding } from '../../src/core/types.js';
import { ageSeconds, fail, formatAge, listFailure, pass, warn } from '../../src/core/findings.js';

/**
 * A leader-elected component is healthy when its lease in kube-system was renewed within its lease
 * duration (plus slack), and its /healthz says ok when we can reach it.
 */
export function judgeLeader(s: ClusterSnapshot, ctx: ClusterContext, component: 'kube-scheduler' | 'kube-controller-manager'): Finding {
  if (!s.systemLeases.ok) return listFailure(s.systemLeases, 'list leases in kube-system');
  const lease = s.systemLeases.items.find((l) => l.name === component);
  const health = s.componentHealth[component];
  const evidence: Record<string, string> = {
    lease: lease ? `holder=${lease.holder ?? '-'} renewTime=${lease.renewTime ?? '-'} leaseDurationSeconds=${lease.durationSeconds ?? '-'}` : `no lease kube-system/${component}`,
    healthz: health.ok ? health.value.detail : health.detail,
  };
  if (!lease) {
    return fail(`no leader lease kube-system/${component}: ${component} is not running (or runs without --leader-elect)`, { evidence, code: 'no-lease' });
  }
  const age = ageSeconds(lease.renewTime, ctx.now);
  const duration = lease.durationSeconds ?? 15;
  const slack = typeof ctx.params.leaseSlackSeconds === 'number' ? ctx.params.leaseSlackSeconds : duration;
  if (age === undefined) return fail(`the leader lease of ${component} was never renewed`, { evidence, code: 'lease-stale' });
  if (age > duration + slack) {
    return fail(`the leader lease of ${component} was last renewed ${formatAge(age)} ago by ${lease.holder ?? 'nobody'} (lease ${duration} s): no instance is leading`, { evidence, code: 'lease-stale' });
  }
  if (health.ok && !health.value.ok) return fail(`${component} holds its lease but /healthz is not ok: ${health.value.detail}`, { evidence, code: 'unhealthy' });
  if (!health.ok && health.reason === 'denied') return warn(`leader lease renewed ${formatAge(Math.max(0, age))} ago; /healthz refused: ${health.detail}`, { evidence, code: 'healthz-denied' });
  return pass(`leader ${lease.holder ?? '?'} renewed its lease ${formatAge(Math.max(0, age))} ago${health.ok ? '; /healthz ok' : ''}`, { evidence });
}

/** What judgeLeader can find, for the scheduler's and controller-manager's catalogues. */
export const LEADER_CODES: Record<string, string> = {
  'no-lease': 'no leader lease in kube-system: the component is not running',
  'lease-stale': 'the leader lease is not renewed: no instance is leading',
  unhealthy: 'the leader holds its lease but /healthz is not ok',
  'healthz-denied': 'the lease is fresh but /healthz refused the request',
};

export const leaderParams = {
  type: 'object',
  properties: { leaseSlackSeconds: { type: 'integer', minimum: 0, description: 'how far past the lease duration a renewal may be late (default: one lease duration)' } },
  additionalProperties: false,
};

