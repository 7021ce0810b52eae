import type { Rule } from '../evidence.js';
import { cite, fixOf, found, judged, linesMatching } from '../evidence.js';

const PATTERNS = ['running with swap on is not supported', 'swap on is not supported'];

export const swapEnabled: Rule = {
  cause: 'swap-enabled',
  depth: 1,
  codes: ['node.swap/swap-on'],
  match(e) {
    const logs = linesMatching(e, PATTERNS);
    const swap = found(e, 'node.swap/swap-on');
    if (swap) {
      return { confidence: 'high', summary: `${swap.message}: the kubelet refuses to run`, evidence: [...cite(swap), ...logs], fix: [...fixOf(swap), e.host?.init === 'systemd' ? 'systemctl restart kubelet' : 'then restart the kubelet'], codes: swap.matched };
    }
    // The host says swap is off: what the log says is from before (the kubelet's current run is clean).
    if (judged(e, 'node.swap')) return null;
    return logs.length ? { confidence: 'medium', summary: 'the kubelet says swap is on', evidence: logs, fix: [`kubecheck doctor ${e.node} -i INVENTORY   # look at the host`, 'swapoff -a'] } : null;
  },
};
