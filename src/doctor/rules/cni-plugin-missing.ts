import type { Rule } from '../evidence.js';
import { linesMatching } from '../evidence.js';

export const cniPluginMissing: Rule = {
  cause: 'cni-plugin-missing',
  depth: 6,
  match(e) {
    const logs = linesMatching(e, [/failed to find plugin \W*[\w-]+\W* in path/]);
    const bins = e.host?.facts.cni.binaries;
    if (bins) {
      const flannel = bins.ok ? bins.value.find((b) => b.name === 'flannel') : undefined;
      if (!flannel) {
        return { confidence: 'high', summary: '/opt/cni/bin/flannel is missing: failed to find plugin "flannel" in path [/opt/cni/bin]', evidence: [`/opt/cni/bin: ${bins.ok ? bins.value.map((b) => b.name).join(', ') || 'empty' : bins.detail}`, ...logs], fix: [`kubecheck fix flannel-plugin --node ${e.node} --from DIR --apply`] };
      }
      if (!flannel.executable) {
        return { confidence: 'high', summary: '/opt/cni/bin/flannel is not executable', evidence: ['- flannel (no exec bit)', ...logs], fix: [`kubecheck fix flannel-plugin --node ${e.node} --apply`] };
      }
      return null;
    }
    return logs.length ? { confidence: 'medium', summary: 'pod sandboxes fail: the flannel CNI plugin is missing', evidence: logs, fix: [`kubecheck fix flannel-plugin --node ${e.node} --from DIR --apply`] } : null;
  },
};
