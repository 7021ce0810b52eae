import type { Rule } from '../evidence.js';
import { linesMatching } from '../evidence.js';

export const clockSkew: Rule = {
  cause: 'clock-skew',
  depth: 3,
  match(e) {
    const clock = e.host?.facts.clock;
    const logs = linesMatching(e, [/certificate has expired or is not yet valid: current time .* is before/, 'clock skew']);
    if (clock && Math.abs(clock.offsetMs) - clock.rttMs / 2 > 2000) {
      const s = (Math.abs(clock.offsetMs) / 1000).toFixed(1);
      return { confidence: logs.length ? 'high' : 'medium', summary: `the host clock is ${s} s ${clock.offsetMs > 0 ? 'ahead of' : 'behind'} this machine's`, evidence: [`clock offset ${clock.offsetMs} ms (±${Math.round(clock.rttMs / 2)} ms)`, ...logs], fix: ['timedatectl set-ntp true', 'chronyc makestep   # with chrony'] };
    }
    return logs.length ? { confidence: 'medium', summary: 'certificates look not yet valid: a clock is wrong', evidence: logs, fix: ['timedatectl set-ntp true'] } : null;
  },
};
