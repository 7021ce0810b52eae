import type { Rule } from '../evidence.js';

function pressure(cause: string, type: string, fix: string[]): Rule {
  return {
    cause,
    depth: 10,
    match(e) {
      const c = e.cluster?.node.conditions.find((x) => x.type === type && x.status === 'True');
      if (!c) return null;
      return { confidence: 'high', summary: `${type}: ${c.message ?? c.reason ?? 'True'}`, evidence: [`${type}=True since ${c.lastTransitionTime ?? '?'}${c.message ? `: ${c.message}` : ''}`], fix };
    },
  };
}

export const diskPressure = pressure('disk-pressure', 'DiskPressure', ['df -h /var/lib/kubelet /var/lib/containerd', 'crictl rmi --prune   # unused images', 'journalctl --vacuum-size=500M']);
export const memoryPressure = pressure('memory-pressure', 'MemoryPressure', ['free -m; ps aux --sort=-rss | head', 'kubectl top pods -A --sort-by=memory   # with metrics-server', 'set memory limits on the pods that grow']);
