import type { NodeCheck } from '../../src/core/types.js';
import { fail, pass, unreadable, warn } from '../../src/core/findings.js';

/** flannel's init container writes 10-flannel.conflist when its pod starts on the node. */
const REWRITE = (node: string) => `kubectl -n kube-flannel delete pod -l app=flannel --field-selector spec.nodeName=${node}   # its init container writes /etc/cni/net.d/10-flannel.conflist`;

interface ConfList {
  name?: string;
  type?: string;
  plugins?: { type?: string }[];
}

export const config: NodeCheck = {
  kind: 'node',
  id: 'cni.config',
  title: 'A valid CNI network configuration, flannel\'s first',
  area: 'cni',
  codes: {
    'missing': 'no CNI config in /etc/cni/net.d: the node stays NotReady (cni plugin not initialized)',
    'unparsable': 'no config in /etc/cni/net.d parses',
    'wrong-first': 'the first config (the one the runtime uses) is not the expected plugin',
    'unparsable-other': 'a config that is not used does not parse',
  },
  why:
    'Until /etc/cni/net.d holds a valid conflist the kubelet reports "cni config uninitialized" / "no ' +
    'networks found in /etc/cni/net.d" and the node stays NotReady. The runtime uses the first file in ' +
    'name order, so a leftover config sorting before 10-flannel.conflist silently wins.',
  remediation: 'kubectl -n kube-flannel rollout restart ds kube-flannel-ds   # its init container writes /etc/cni/net.d/10-flannel.conflist',
  params: {
    type: 'object',
    properties: { plugin: { type: 'string', description: 'the CNI plugin the first config must use (default flannel)' } },
    additionalProperties: false,
  },
  run(facts, ctx) {
    const plugin = typeof ctx.params.plugin === 'string' ? ctx.params.plugin : 'flannel';
    const configs = facts.cni.configs;
    if (!configs.ok) {
      if (configs.reason === 'missing') {
        return ctx.phase === 'pre' ? pass('no CNI config yet (written when the CNI DaemonSet starts)') : fail('/etc/cni/net.d does not exist: cni config uninitialized (the runtime reports "cni plugin not initialized")', { code: 'missing', remediation: REWRITE(ctx.host) });
      }
      return unreadable(configs, '/etc/cni/net.d');
    }
    const files = configs.value.filter((c) => /\.(conflist|conf|json)$/.test(c.name)).sort((a, b) => (a.name < b.name ? -1 : 1));
    const evidence = { '/etc/cni/net.d': configs.value.map((c) => `==> ${c.name}\n${c.content.slice(0, 1000)}`).join('\n') };
    if (files.length === 0) {
      return ctx.phase === 'pre' ? pass('no CNI config yet (written when the CNI DaemonSet starts)') : fail('no networks found in /etc/cni/net.d: cni config uninitialized (the runtime reports "cni plugin not initialized")', { evidence, code: 'missing', remediation: REWRITE(ctx.host) });
    }
    const parsed = files.map((f) => {
      try {
        const c = JSON.parse(f.content) as ConfList;
        const types = c.plugins ? c.plugins.map((p) => p.type ?? '?') : c.type ? [c.type] : [];
        return { name: f.name, ok: types.length > 0 && (f.name.endsWith('.conflist') ? Array.isArray(c.plugins) : true), types };
      } catch {
        return { name: f.name, ok: false, types: [] as string[] };
      }
    });
    const first = parsed.find((p) => p.ok);
    const broken = parsed.filter((p) => !p.ok).map((p) => p.name);
    if (!first) return fail(`no valid CNI config in /etc/cni/net.d (not parsable: ${broken.join(', ')})`, { evidence, code: 'unparsable', remediation: REWRITE(ctx.host) });
    if (!first.types.includes(plugin)) {
      return (ctx.phase === 'pre' ? warn : fail)(`the runtime uses ${first.name} (${first.types.join(' → ')}), not a ${plugin} config: remove the leftover file`, {
        evidence,
        remediation: `mv /etc/cni/net.d/${first.name} /root/   # then restart the runtime`,
        code: 'wrong-first',
      });
    }
    if (broken.length) return warn(`${first.name} is used; not parsable: ${broken.join(', ')}`, { evidence, code: 'unparsable-other' });
    return pass(`${first.name} (${first.types.join(' → ')})`, { evidence });
  },
};
