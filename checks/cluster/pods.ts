import type { PodInfo } from '../../src/k8s/snapshot.js';
import { ageSeconds, formatAge } from '../../src/core/findings.js';

export interface PodProblem {
  severity: 'fail' | 'warn';
  text: string;
}

const BAD_WAITING = new Set(['CrashLoopBackOff', 'ImagePullBackOff', 'ErrImagePull', 'CreateContainerConfigError', 'CreateContainerError', 'InvalidImageName', 'RunContainerError']);

/** What is wrong with one pod: crash loops, image pulls, long Pending, not ready, many restarts. */
export function podProblems(pod: PodInfo, now: Date, options: { pendingSeconds?: number; maxRestarts?: number } = {}): PodProblem[] {
  const out: PodProblem[] = [];
  const where = `${pod.namespace}/${pod.name}${pod.node ? ` on ${pod.node}` : ''}`;
  if (pod.deleting || pod.phase === 'Succeeded') return out;
  for (const c of pod.containers) {
    if (c.waiting?.reason && BAD_WAITING.has(c.waiting.reason)) {
      const last = c.lastTerminated ? ` (last exit: ${c.lastTerminated.reason ?? 'terminated'}, code ${c.lastTerminated.exitCode ?? '?'})` : '';
      out.push({ severity: 'fail', text: `${where}: container ${c.name} ${c.waiting.reason}${last}, ${c.restarts} restarts` });
    }
  }
  if (pod.phase === 'Failed') out.push({ severity: 'fail', text: `${where}: Failed${pod.reason ? ` (${pod.reason})` : ''}` });
  if (pod.phase === 'Pending') {
    const age = ageSeconds(pod.createdAt, now) ?? 0;
    if (age > (options.pendingSeconds ?? 300)) out.push({ severity: 'fail', text: `${where}: Pending for ${formatAge(age)}${pod.message ? `: ${pod.message}` : ''}` });
  }
  if (out.length === 0 && pod.phase === 'Running' && !pod.ready) {
    const age = ageSeconds(pod.createdAt, now) ?? 0;
    if (age > 120) out.push({ severity: 'fail', text: `${where}: Running but not Ready for ${formatAge(age)}` });
  }
  const restarts = pod.containers.reduce((n, c) => n + c.restarts, 0);
  if (out.length === 0 && restarts > (options.maxRestarts ?? 5)) out.push({ severity: 'warn', text: `${where}: ${restarts} restarts` });
  return out;
}
