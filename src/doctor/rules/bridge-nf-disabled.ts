import type { Rule } from '../evidence.js';
import { cite, fixOf, found } from '../evidence.js';

const CODES = ['node.sysctl/br-netfilter-missing', 'node.sysctl/bridge-nf-off'];

export const bridgeNfDisabled: Rule = {
  cause: 'bridge-nf-disabled',
  depth: 12,
  codes: CODES,
  match(e) {
    const off = found(e, ...CODES);
    if (!off) return null;
    const missing = off.matched.includes('node.sysctl/br-netfilter-missing');
    return {
      confidence: 'medium',
      summary: missing ? 'br_netfilter is not loaded: bridged pod traffic bypasses iptables (Services break)' : 'net.bridge.bridge-nf-call-iptables is 0: bridged pod traffic bypasses iptables',
      evidence: cite(off, 4),
      fix: fixOf(off),
      codes: off.matched,
    };
  },
};
