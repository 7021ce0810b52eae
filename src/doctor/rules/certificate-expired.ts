import type { Rule } from '../evidence.js';
import { cite, fixOf, found, linesMatching } from '../evidence.js';

const PATTERNS = ['x509: certificate has expired or is not yet valid', 'certificate has expired', /client certificate in \S+ is expired/];
const CODES = ['node.certificates/kubelet-client-expired', 'node.certificates/expired'];

export const certificateExpired: Rule = {
  cause: 'certificate-expired',
  depth: 2,
  codes: CODES,
  match(e) {
    const logs = linesMatching(e, PATTERNS);
    const expired = found(e, ...CODES);
    if (expired) {
      const parts = expired.message.split('; ').filter((m) => m.includes(' expired on '));
      const codes = expired.matched;
      return { confidence: 'high', summary: parts.join('; ') || expired.message, evidence: [...parts, ...logs], fix: fixOf(expired), codes };
    }
    if (!e.host && logs.length) return { confidence: 'medium', summary: 'x509: certificate has expired or is not yet valid', evidence: logs, fix: ['kubeadm certs check-expiration', 'kubeadm certs renew all'] };
    return null;
  },
};
