import type { Rule } from '../evidence.js';
import { linesMatching } from '../evidence.js';
import { cidrContains, parseCidr, parseIp } from '../../core/cidr.js';

export const cni0IpConflict: Rule = {
  cause: 'cni0-ip-conflict',
  depth: 9,
  match(e) {
    const logs = linesMatching(e, ['already has an IP address different from']);
    const f = e.host?.facts;
    const fix = [`kubecheck fix cni0 --node ${e.node} --apply`];
    if (f && f.links.ok && f.cni.subnetEnv.ok) {
      const cni0 = f.links.value.find((l) => l.name === 'cni0');
      const subnetText = f.cni.subnetEnv.value.FLANNEL_SUBNET;
      const subnet = subnetText ? parseCidr(subnetText) : null;
      const addr = cni0?.addresses.find((a) => a.family === 'inet');
      const ip = addr ? parseIp(addr.address) : null;
      if (subnet && addr && ip && !cidrContains(subnet, ip)) {
        return { confidence: 'high', summary: `cni0 has ${addr.address}/${addr.prefix} but this node's flannel subnet is ${subnetText}`, evidence: [`cni0 ${addr.address}/${addr.prefix}`, `FLANNEL_SUBNET=${subnetText}`, ...logs], fix };
      }
      return null;
    }
    return logs.length ? { confidence: 'medium', summary: 'pod sandboxes fail: "cni0" already has an IP address different from the node\'s subnet', evidence: logs, fix } : null;
  },
};
