import type { Rule } from '../evidence.js';
import { cite, fixOf, found, judged, linesMatching } from '../evidence.js';

const CODES = ['cni.flannel-plugin/missing', 'cni.flannel-plugin/not-executable', 'cni.flannel-plugin/no-plugin-dir'];

export const cniPluginMissing: Rule = {
  cause: 'cni-plugin-missing',
  depth: 6,
  codes: CODES,
  match(e) {
    const logs = linesMatching(e, [/failed to find plugin \W*[\w-]+\W* in path/]);
    const missing = found(e, ...CODES);
    if (missing) return { confidence: 'high', summary: missing.message, evidence: [...cite(missing), ...logs], fix: fixOf(missing), codes: missing.matched };
    if (judged(e, 'cni.flannel-plugin')) return null;
    return logs.length ? { confidence: 'medium', summary: 'pod sandboxes fail: a CNI plugin is missing from /opt/cni/bin', evidence: logs, fix: [`kubecheck fix flannel-plugin --node ${e.node} --from DIR --apply`] } : null;
  },
};
