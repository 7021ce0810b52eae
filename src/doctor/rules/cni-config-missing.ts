import type { Rule } from '../evidence.js';
import { cite, fixOf, found, judged, linesMatching } from '../evidence.js';

/** What the kubelet and the runtime say while /etc/cni/net.d has no usable config (containerd, then dockershim). */
const PATTERNS = ['cni plugin not initialized', 'NetworkPluginNotReady', 'cni config uninitialized', 'no networks found in /etc/cni/net.d', 'network plugin is not ready'];
const CODES = ['cni.config/missing', 'cni.config/unparsable'];

export const cniConfigMissing: Rule = {
  cause: 'cni-config-missing',
  depth: 7,
  codes: CODES,
  match(e) {
    const logs = linesMatching(e, PATTERNS);
    const missing = found(e, ...CODES);
    if (missing) return { confidence: 'high', summary: missing.message, evidence: [...cite(missing, 1), ...logs], fix: fixOf(missing), codes: missing.matched };
    if (judged(e, 'cni.config')) return null;
    const restart = `kubectl -n kube-flannel delete pod -l app=flannel --field-selector spec.nodeName=${e.node}   # its init container writes 10-flannel.conflist`;
    return logs.length ? { confidence: 'medium', summary: 'the runtime reports no CNI config: cni plugin not initialized', evidence: logs, fix: [restart] } : null;
  },
};
