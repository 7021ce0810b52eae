import type { Rule } from '../evidence.js';
import { cite, fixOf, found, judged, linesMatching } from '../evidence.js';

export const flannelSubnetMissing: Rule = {
  cause: 'flannel-subnet-missing',
  depth: 8,
  codes: ['cni.flannel-subnet/missing'],
  match(e) {
    const logs = linesMatching(e, ['open /run/flannel/subnet.env: no such file or directory', "failed to load flannel 'subnet.env' file"]);
    const missing = found(e, 'cni.flannel-subnet/missing');
    if (missing) return { confidence: 'high', summary: missing.message, evidence: [...cite(missing), ...logs], fix: [...fixOf(missing), 'kubectl -n kube-flannel logs -l app=flannel --tail 50   # if it does not come back'], codes: missing.matched };
    if (judged(e, 'cni.flannel-subnet')) return null;
    const fix = [`kubectl -n kube-flannel get pod -o wide --field-selector spec.nodeName=${e.node}   # is flanneld running there?`, 'kubectl -n kube-flannel logs -l app=flannel --tail 50'];
    return logs.length ? { confidence: 'medium', summary: 'pod sandboxes fail: /run/flannel/subnet.env is missing', evidence: logs, fix } : null;
  },
};
