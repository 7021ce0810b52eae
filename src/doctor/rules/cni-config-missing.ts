import type { Rule } from '../evidence.js';
import { linesMatching } from '../evidence.js';

export const cniConfigMissing: Rule = {
  cause: 'cni-config-missing',
  depth: 7,
  match(e) {
    const logs = linesMatching(e, ['cni config uninitialized', 'no networks found in /etc/cni/net.d', 'network plugin is not ready']);
    const configs = e.host?.facts.cni.configs;
    const restart = `kubectl -n kube-flannel delete pod -l app=flannel --field-selector spec.nodeName=${e.node}   # its init container writes 10-flannel.conflist`;
    if (configs) {
      const files = configs.ok ? configs.value.filter((c) => /\.(conflist|conf)$/.test(c.name)) : [];
      if (files.length === 0) return { confidence: 'high', summary: 'no CNI config in /etc/cni/net.d: cni config uninitialized', evidence: [`/etc/cni/net.d: ${configs.ok ? 'empty' : configs.detail}`, ...logs], fix: [restart] };
      return null;
    }
    return logs.length ? { confidence: 'medium', summary: 'the kubelet reports cni config uninitialized', evidence: logs, fix: [restart] } : null;
  },
};
