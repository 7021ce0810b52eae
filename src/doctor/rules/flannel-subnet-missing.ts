import type { Rule } from '../evidence.js';
import { linesMatching } from '../evidence.js';

export const flannelSubnetMissing: Rule = {
  cause: 'flannel-subnet-missing',
  depth: 8,
  match(e) {
    const logs = linesMatching(e, ['open /run/flannel/subnet.env: no such file or directory', 'subnet.env']);
    const env = e.host?.facts.cni.subnetEnv;
    const fix = [`kubectl -n kube-flannel get pod -o wide --field-selector spec.nodeName=${e.node}   # is flanneld running there?`, `kubectl -n kube-flannel logs -l app=flannel --tail 50`];
    if (env) {
      if (!env.ok && env.reason === 'missing') return { confidence: 'high', summary: 'open /run/flannel/subnet.env: no such file or directory (flanneld has not run here)', evidence: ['/run/flannel/subnet.env missing', ...logs], fix };
      return null;
    }
    return logs.length ? { confidence: 'medium', summary: 'pod sandboxes fail: /run/flannel/subnet.env is missing', evidence: logs, fix } : null;
  },
};
