import type { Rule } from '../evidence.js';
import { found, judged, linesMatching } from '../evidence.js';

const CODES = ['cluster.nodes/status-unknown', 'cluster.nodes/lease-stale', 'cluster.nodes/no-lease'];

export const nodeUnreachable: Rule = {
  cause: 'node-unreachable',
  depth: 20,
  codes: CODES,
  match(e) {
    const c = e.cluster;
    if (!c || c.ready?.status === 'True') return null;
    const stale = found(e, ...CODES);
    const logs = linesMatching(e, ['Kubelet stopped posting node status', 'NodeStatusUnknown']);
    if (!stale && !logs.length) return null;
    const evidence = [...logs, ...(stale ? [stale.message] : [])];
    const codes = stale ? stale.matched : [];
    if (e.hostProblem) {
      return { confidence: 'high', summary: `the node stopped heartbeating and its host cannot be reached: ${e.hostProblem}`, evidence: [...evidence, `SSH: ${e.hostProblem}`], fix: ['check the machine is up (console, hypervisor) and its network', `once reachable: kubecheck doctor ${e.node} -i INVENTORY`], codes };
    }
    if (e.host) {
      // The kubelet itself is down or unhealthy: that is the cause (kubelet-down), not the path to the API server.
      if (found(e, 'node.kubelet/not-running', 'node.kubelet/unhealthy') || !judged(e, 'node.kubelet')) return null;
      // The host answers and its kubelet looks fine, yet the API server hears nothing: the path between them.
      return { confidence: 'low', summary: 'the host is up and its kubelet healthy, but its heartbeats do not reach the API server', evidence, fix: ['on the node: grep -i -E "unable to|failed to|timeout" /var/log/kubelet.log (or journalctl -u kubelet) | tail', 'check the route and firewall from the node to the API server (6443)'], codes };
    }
    return { confidence: 'medium', summary: `the kubelet stopped posting node status${stale ? ` (${stale.message.split('; ')[0]})` : ''}: the node, its kubelet or the network to it is down`, evidence, fix: [`kubecheck doctor ${e.node} -i INVENTORY   # look at the host itself`, `ssh ${e.node} systemctl status kubelet containerd`], codes };
  },
};
