import type { Rule } from '../evidence.js';
import { cite, fixOf, found } from '../evidence.js';

export const ipForwardDisabled: Rule = {
  cause: 'ip-forward-disabled',
  depth: 11,
  codes: ['node.sysctl/ip-forward-off'],
  match(e) {
    const off = found(e, 'node.sysctl/ip-forward-off');
    if (!off) return null;
    return { confidence: 'medium', summary: 'net.ipv4.ip_forward is not 1: pod traffic is not forwarded', evidence: cite(off, 4), fix: fixOf(off), codes: off.matched };
  },
};
