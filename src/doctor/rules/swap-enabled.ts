import type { Rule } from '../evidence.js';
import { linesMatching } from '../evidence.js';
import { formatKiB } from '../../collectors/node/swap.js';

export const swapEnabled: Rule = {
  cause: 'swap-enabled',
  depth: 1,
  match(e) {
    const logs = linesMatching(e, ['running with swap on is not supported', 'swap on is not supported']);
    const swaps = e.host?.facts.swaps;
    if (swaps?.ok && swaps.value.length) {
      const devices = swaps.value.map((d) => `${d.device} (${formatKiB(d.sizeKiB)})`).join(', ');
      return { confidence: 'high', summary: `swap is on (${devices}): the kubelet refuses to run`, evidence: [`/proc/swaps: ${devices}`, ...logs], fix: [`kubecheck fix swap --node ${e.node} --apply`, 'systemctl restart kubelet'] };
    }
    if (logs.length) return { confidence: 'medium', summary: 'the kubelet says swap is on', evidence: logs, fix: [`kubecheck fix swap --node ${e.node} --apply`] };
    return null;
  },
};
