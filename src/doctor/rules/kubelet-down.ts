import type { Rule } from '../evidence.js';
import { cite, fixOf, found, linesMatching } from '../evidence.js';

const CODES = ['node.kubelet/not-running', 'node.kubelet/unhealthy'];

export const kubeletDown: Rule = {
  cause: 'kubelet-down',
  depth: 5,
  codes: CODES,
  match(e) {
    const down = found(e, ...CODES);
    if (!down) return null;
    const logs = linesMatching(e, ['Kubelet stopped posting node status', 'failed to run Kubelet', 'kubelet.service: Failed', '"command failed"']);
    const journal = e.host?.init === 'systemd' ? 'journalctl -u kubelet -n 50 --no-pager' : 'tail -n 50 /var/log/kubelet.log';
    return {
      confidence: 'high',
      summary: down.code === 'node.kubelet/not-running' ? `the kubelet is not running on the host${down.message.includes('(systemd:') ? ` ${down.message.slice(down.message.indexOf('(systemd:'))}` : ''}` : down.message,
      evidence: [...cite(down), ...logs],
      fix: [...fixOf(down), `${journal}   # if it exits again, the reason is in its last lines`],
      codes: down.matched,
    };
  },
};
