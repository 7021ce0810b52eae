import type { Rule } from '../evidence.js';
import { linesMatching } from '../evidence.js';
import { ageSeconds, formatAge } from '../../core/findings.js';

export const nodeUnreachable: Rule = {
  cause: 'node-unreachable',
  depth: 20,
  match(e) {
    const c = e.cluster;
    if (!c || c.ready?.status === 'True') return null;
    const logs = linesMatching(e, ['Kubelet stopped posting node status', 'NodeStatusUnknown']);
    const lease = ageSeconds(c.leaseRenewTime, e.now);
    const stale = lease === undefined || lease > (c.leaseDurationSeconds ?? 40);
    if (!stale && !logs.length) return null;
    const evidence = [...logs, lease === undefined ? 'no node lease' : `node lease last renewed ${formatAge(lease)} ago`];
    if (e.hostProblem) {
      return { confidence: 'high', summary: `the node stopped heartbeating and its host cannot be reached: ${e.hostProblem}`, evidence: [...evidence, `SSH: ${e.hostProblem}`], fix: ['check the machine is up (console, hypervisor) and its network', `once reachable: kubecheck doctor ${e.node} -i INVENTORY`] };
    }
    if (e.host) {
      // The host answers and its kubelet looks fine, yet the API server hears nothing: the path between them.
      return { confidence: 'low', summary: 'the host is up but its kubelet\'s heartbeats do not reach the API server', evidence, fix: ['on the node: journalctl -u kubelet | grep -i -E "unable to|failed to|timeout" | tail', 'check the route and firewall from the node to the API server (6443)'] };
    }
    return { confidence: 'medium', summary: `the kubelet stopped posting node status${lease !== undefined ? ` (lease ${formatAge(lease)} old)` : ''}: the node, its kubelet or the network to it is down`, evidence, fix: [`kubecheck doctor ${e.node} -i INVENTORY   # look at the host itself`, `ssh ${e.node} systemctl status kubelet containerd`] };
  },
};
