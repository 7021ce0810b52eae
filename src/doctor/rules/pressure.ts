import type { Rule } from '../evidence.js';
import { fixOf, found } from '../evidence.js';

function pressure(cause: string, condition: string, code: string): Rule {
  return {
    cause,
    depth: 10,
    codes: [code],
    match(e) {
      const f = found(e, code);
      if (!f) return null;
      const c = e.cluster?.node.conditions.find((x) => x.type === condition && x.status === 'True');
      const evidence = c ? `${c.type}=True since ${c.lastTransitionTime ?? '?'}${c.message ? `: ${c.message}` : ''}` : f.message;
      return { confidence: 'high', summary: `${condition}: ${c?.message ?? c?.reason ?? 'True'}`, evidence: [evidence], fix: fixOf(f), codes: [code] };
    },
  };
}

export const diskPressure = pressure('disk-pressure', 'DiskPressure', 'cluster.nodes/disk-pressure');
export const memoryPressure = pressure('memory-pressure', 'MemoryPressure', 'cluster.nodes/memory-pressure');
