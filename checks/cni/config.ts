import type { NodeCheck } from '../../src/core/types.js';
import { fail, pass, unreadable, warn } from '../../src/core/findings.js';
import { runsFlannel } from '../../src/profiles/profiles.js';
import type { NodeFacts } from '../../src/core/facts.js';
import { restartCommand } from '../node/restart.js';
import { restartFlannel } from './applies.js';

/** What writes the CNI config again: flannel's pod (its init container), k3s at start; by hand in a binary install. */
function rewrite(facts: NodeFacts, node: string): string {
  if (facts.profile.name === 'binary') return `write ${facts.cni.confDir}/10-flannel.conflist (the cni-conf.json of kube-flannel.yml), then ${restartCommand(facts, 'containerd')}`;
  return `${restartFlannel(facts, node)}   # it writes ${facts.cni.confDir}/10-flannel.conflist when it starts`;
}

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
    // The plugin the first config must use: as asked, else flannel — or the CNI the host runs, when it is another.
    const plugin = typeof ctx.params.plugin === 'string' ? ctx.params.plugin : runsFlannel(facts.profile.cni) ? 'flannel' : facts.profile.cni;
    const dir = facts.cni.confDir;
    const configs = facts.cni.configs;
    if (!configs.ok) {
      if (configs.reason === 'missing') {
        return ctx.phase === 'pre' ? pass('no CNI config yet (written when the CNI DaemonSet starts)') : fail(`${dir} does not exist: cni config uninitialized (the runtime reports "cni plugin not initialized")`, { code: 'missing', remediation: rewrite(facts, ctx.host) });
      }
      return unreadable(configs, dir);
    }
    const files = configs.value.filter((c) => /\.(conflist|conf|json)$/.test(c.name)).sort((a, b) => (a.name < b.name ? -1 : 1));
    const evidence = { [dir]: configs.value.map((c) => `==> ${c.name}\n${c.content.slice(0, 1000)}`).join('\n') };
    if (files.length === 0) {
      return ctx.phase === 'pre' ? pass('no CNI config yet (written when the CNI DaemonSet starts)') : fail(`no networks found in ${dir}: cni config uninitialized (the runtime reports "cni plugin not initialized")`, { evidence, code: 'missing', remediation: rewrite(facts, ctx.host) });
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
    if (!first) return fail(`no valid CNI config in ${dir} (not parsable: ${broken.join(', ')})`, { evidence, code: 'unparsable', remediation: rewrite(facts, ctx.host) });
    if (!first.types.includes(plugin)) {
      return (ctx.phase === 'pre' ? warn : fail)(`the runtime uses ${first.name} (${first.types.join(' → ')}), not a ${plugin} config: remove the leftover file`, {
        evidence,
        remediation: `mv ${dir}/${first.name} /root/   # then restart the runtime`,
        code: 'wrong-first',
      });
    }
    if (broken.length) return warn(`${first.name} is used; not parsable: ${broken.join(', ')}`, { evidence, code: 'unparsable-other' });
    return pass(`${first.name} (${first.types.join(' → ')})`, { evidence });
  },
};
