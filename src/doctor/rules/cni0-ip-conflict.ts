import type { Rule } from '../evidence.js';
import { cite, fixOf, found, judged, linesMatching } from '../evidence.js';

export const cni0IpConflict: Rule = {
  cause: 'cni0-ip-conflict',
  depth: 9,
  codes: ['cni.cni0/stale-address'],
  match(e) {
    const logs = linesMatching(e, ['already has an IP address different from']);
    const stale = found(e, 'cni.cni0/stale-address');
    if (stale) return { confidence: 'high', summary: stale.message.replace(/: cni0 already has an IP address different from .*$/, ''), evidence: [...cite(stale, 2), ...logs], fix: fixOf(stale), codes: stale.matched };
    if (judged(e, 'cni.cni0')) return null;
    return logs.length ? { confidence: 'medium', summary: 'pod sandboxes fail: "cni0" already has an IP address different from the node\'s subnet', evidence: logs, fix: [`kubecheck fix cni0 --node ${e.node} --apply`] } : null;
  },
};
