import type { Rule } from '../evidence.js';
import { linesMatching } from '../evidence.js';

export const bootstrapTokenExpired: Rule = {
  cause: 'bootstrap-token-expired',
  depth: 3,
  match(e) {
    const logs = linesMatching(e, [/bootstrap.*(Unauthorized|token.*expired|invalid bootstrap token)/i, /Unable to register node.*Unauthorized/]);
    if (!logs.length) return null;
    const none = e.cluster?.validTokens === 0;
    return {
      confidence: none ? 'high' : 'medium',
      summary: `the kubelet's TLS bootstrap is refused: its bootstrap token expired${none ? ' (no valid token exists)' : ''}`,
      evidence: [...logs, ...(none ? ['no valid bootstrap token in kube-system'] : [])],
      fix: ['on a control-plane node: kubeadm token create --print-join-command', 'on this node: kubeadm reset -f && the printed kubeadm join command'],
    };
  },
};
