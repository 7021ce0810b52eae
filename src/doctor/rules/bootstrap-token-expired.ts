import type { Rule } from '../evidence.js';
import { fixOf, found, linesMatching } from '../evidence.js';

export const bootstrapTokenExpired: Rule = {
  cause: 'bootstrap-token-expired',
  depth: 3,
  codes: ['token.bootstrap/none-valid', 'token.bootstrap/expired'],
  match(e) {
    const logs = linesMatching(e, [/bootstrap.*(Unauthorized|token.*expired|invalid bootstrap token)/i, /Unable to register node.*Unauthorized/]);
    if (!logs.length) return null;
    const none = found(e, 'token.bootstrap/none-valid');
    return {
      confidence: none ? 'high' : 'medium',
      summary: `the kubelet's TLS bootstrap is refused: its bootstrap token expired${none ? ' (no valid token exists)' : ''}`,
      evidence: [...logs, ...(none ? [none.message] : [])],
      fix: [...(none ? fixOf(none) : ['on a control-plane node: kubeadm token create --print-join-command']), 'on this node: kubeadm reset -f && the printed kubeadm join command'],
      ...(none ? { codes: none.matched } : {}),
    };
  },
};
