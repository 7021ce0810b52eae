import type { Rule } from '../evidence.js';

export const ipForwardDisabled: Rule = {
  cause: 'ip-forward-disabled',
  depth: 11,
  match(e) {
    const v = e.host?.facts.sysctls['net.ipv4.ip_forward'];
    if (v === undefined || v === '1') return null;
    return { confidence: 'medium', summary: `net.ipv4.ip_forward is ${v ?? 'missing'}: pod traffic is not forwarded`, evidence: [`net.ipv4.ip_forward=${v}`], fix: ["echo 'net.ipv4.ip_forward = 1' > /etc/sysctl.d/k8s.conf && sysctl --system"] };
  },
};
