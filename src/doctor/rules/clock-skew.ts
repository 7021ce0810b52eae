import type { Rule } from '../evidence.js';
import { cite, fixOf, found, linesMatching } from '../evidence.js';

export const clockSkew: Rule = {
  cause: 'clock-skew',
  depth: 3,
  codes: ['fleet.clock-skew/skewed', 'node.certificates/not-yet-valid'],
  match(e) {
    const logs = linesMatching(e, [/certificate has expired or is not yet valid: current time .* is before/, 'clock skew']);
    const skewed = found(e, 'fleet.clock-skew/skewed', 'node.certificates/not-yet-valid');
    if (skewed) return { confidence: logs.length || skewed.code === 'fleet.clock-skew/skewed' ? 'high' : 'medium', summary: skewed.message, evidence: [...cite(skewed), ...logs], fix: fixOf(skewed), codes: skewed.matched };
    return logs.length ? { confidence: 'medium', summary: 'certificates look not yet valid: a clock is wrong', evidence: logs, fix: ['timedatectl set-ntp true'] } : null;
  },
};
