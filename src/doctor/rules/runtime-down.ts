import type { Rule } from '../evidence.js';
import { cite, fixOf, found, judged, linesMatching } from '../evidence.js';

const PATTERNS = ['container runtime is down', 'PLEG is not healthy', 'container runtime network not ready', /containerd\.sock.*(connection refused|no such file)/, 'failed to get runtime status', 'ContainerRuntimeNotReady'];
const CODES = ['node.runtime/no-runtime', 'node.runtime/not-running', 'node.runtime/not-answering'];

export const runtimeDown: Rule = {
  cause: 'runtime-down',
  depth: 4,
  codes: CODES,
  match(e) {
    const logs = linesMatching(e, PATTERNS);
    const down = found(e, ...CODES);
    if (down) {
      return { confidence: 'high', summary: `the container runtime is down: ${down.message}`, evidence: [...cite(down), ...logs], fix: fixOf(down), codes: down.matched };
    }
    if (judged(e, 'node.runtime')) return null;
    if (logs.some((l) => /container runtime is down|PLEG is not healthy|ContainerRuntimeNotReady/.test(l))) {
      return { confidence: 'medium', summary: 'the node reports its container runtime down (PLEG not healthy)', evidence: logs, fix: ['on the node: systemctl restart containerd', `kubecheck doctor ${e.node} -i INVENTORY   # to look at the host itself`] };
    }
    return null;
  },
};
