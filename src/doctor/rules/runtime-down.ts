import type { Rule } from '../evidence.js';
import { linesMatching } from '../evidence.js';

export const runtimeDown: Rule = {
  cause: 'runtime-down',
  depth: 4,
  match(e) {
    const logs = linesMatching(e, ['container runtime is down', 'PLEG is not healthy', 'container runtime network not ready', /containerd\.sock.*(connection refused|no such file)/, 'failed to get runtime status', 'ContainerRuntimeNotReady']);
    const f = e.host?.facts;
    if (f) {
      const answering = f.runtimeSockets.filter((s) => s.listening);
      if (answering.length === 0) {
        const what = f.runtimeSockets.length ? `${f.runtimeSockets.map((s) => s.path).join(', ')} exists but nothing answers` : 'no CRI socket (containerd, CRI-O, cri-dockerd)';
        return { confidence: 'high', summary: `the container runtime is down: ${what}`, evidence: [what, ...logs], fix: ['systemctl restart containerd', 'journalctl -u containerd -n 50 --no-pager'] };
      }
      return null;
    }
    if (logs.some((l) => /container runtime is down|PLEG is not healthy|ContainerRuntimeNotReady/.test(l))) {
      return { confidence: 'medium', summary: 'the node reports its container runtime down (PLEG not healthy)', evidence: logs, fix: ['on the node: systemctl restart containerd', 'kubecheck doctor NODE -i INVENTORY   # to look at the host itself'] };
    }
    return null;
  },
};
