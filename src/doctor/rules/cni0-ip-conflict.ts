import type { Rule } from '../evidence.js';
import { linesMatching } from '../evidence.js';
import { staleCni0 } from '../../../checks/cni/cni0.js';

export const cni0IpConflict: Rule = {
  cause: 'cni0-ip-conflict',
  depth: 9,
  match(e) {
    const logs = linesMatching(e, ['already has an IP address different from']);
    const f = e.host?.facts;
    const fix = [`kubecheck fix cni0 --node ${e.node} --apply`];
    const stale = f ? staleCni0(f) : null;
    if (stale) {
      if (stale.outside.length === 0) return null;
      return { confidence: 'high', summary: `cni0 has ${stale.outside.join(', ')} but this node's flannel subnet is ${stale.subnet}`, evidence: [`cni0 ${stale.outside.join(', ')}`, `FLANNEL_SUBNET=${stale.subnet}`, ...logs], fix };
    }
    if (f && f.links.ok && f.cni.subnetEnv.ok) return null;
    return logs.length ? { confidence: 'medium', summary: 'pod sandboxes fail: "cni0" already has an IP address different from the node\'s subnet', evidence: logs, fix } : null;
  },
};
