import type { Rule } from '../evidence.js';

export const bridgeNfDisabled: Rule = {
  cause: 'bridge-nf-disabled',
  depth: 12,
  match(e) {
    const f = e.host?.facts;
    if (!f) return null;
    const v = f.sysctls['net.bridge.bridge-nf-call-iptables'];
    if (v === '1' || v === undefined) return null;
    return {
      confidence: 'medium',
      summary: v === null ? 'br_netfilter is not loaded: bridged pod traffic bypasses iptables (Services break)' : 'net.bridge.bridge-nf-call-iptables is 0',
      evidence: [`net.bridge.bridge-nf-call-iptables=${v ?? 'missing'}`],
      fix: ['modprobe br_netfilter && echo br_netfilter > /etc/modules-load.d/k8s.conf', "echo 'net.bridge.bridge-nf-call-iptables = 1' >> /etc/sysctl.d/k8s.conf && sysctl --system"],
    };
  },
};
