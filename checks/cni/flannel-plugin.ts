import type { NodeCheck } from '../../src/core/types.js';
import { fail, pass, unreadable } from '../../src/core/findings.js';
import { FLANNEL_CNI_PLUGINS } from '../../src/profiles/profiles.js';
import { notFlannel } from './applies.js';


export const flannelPlugin: NodeCheck = {
  kind: 'node',
  id: 'cni.flannel-plugin',
  title: 'The flannel CNI plugin and the base plugins are installed and executable',
  area: 'cni',
  codes: {
    'no-plugin-dir': "the CNI plugin folder (/opt/cni/bin, or the install's own) does not exist: no CNI plugins installed",
    'missing': "a required plugin (flannel, bridge, host-local, loopback, portmap) is not in the CNI plugin folder",
    'not-flannel': 'the host runs another CNI: flannel\'s plugins do not apply',
    'not-executable': 'a required plugin lacks its exec bit',
  },
  why:
    'The runtime runs /opt/cni/bin/flannel for every pod sandbox, and flannel delegates to bridge, ' +
    'host-local, loopback and portmap. Without them pods stay in ContainerCreating with ' +
    '"failed to find plugin \\"flannel\\" in path [/opt/cni/bin]".',
  remediation: 'kubecheck fix flannel-plugin --node NODE --from DIR   # or: apt-get install -y kubernetes-cni; kubectl -n kube-flannel rollout restart ds kube-flannel-ds',
  params: {
    type: 'object',
    properties: { plugins: { type: 'array', items: { type: 'string' }, description: 'plugins that must be present (default: flannel, bridge, host-local, loopback, portmap)' } },
    additionalProperties: false,
  },
  run(facts, ctx) {
    const other = notFlannel(facts);
    if (other) return other;
    const bins = facts.cni.binaries;
    const dir = facts.cni.binDir;
    const required = Array.isArray(ctx.params.plugins) ? (ctx.params.plugins as string[]) : FLANNEL_CNI_PLUGINS;
    // Before install the flannel DaemonSet has not copied its plugin yet; the base plugins come with kubeadm.
    const needed = ctx.phase === 'pre' ? required.filter((p) => p !== 'flannel') : required;
    const fix = (node: string) => `kubecheck fix flannel-plugin --node ${node} --from DIR_WITH_PLUGINS`;
    if (!bins.ok) {
      if (bins.reason === 'missing') return fail(`${dir} does not exist: no CNI plugins installed (${needed.join(', ')} needed)`, { remediation: `apt-get install -y kubernetes-cni   # then: ${fix(ctx.host)}`, code: 'no-plugin-dir' });
      return unreadable(bins, dir);
    }
    const evidence = { [dir]: bins.value.map((b) => `${b.executable ? 'x' : '-'} ${b.name}`).join('\n') };
    const byName = new Map(bins.value.map((b) => [b.name, b]));
    const missing = needed.filter((p) => !byName.has(p));
    const notExec = needed.filter((p) => byName.has(p) && !byName.get(p)!.executable);
    const problems = [
      ...(missing.length ? [`missing in ${dir}: ${missing.join(', ')}${missing.includes('flannel') ? ` (failed to find plugin "flannel" in path [${dir}])` : ''}`] : []),
      ...(notExec.length ? [`not executable: ${notExec.map((p) => `${dir}/${p}`).join(', ')}`] : []),
    ];
    if (problems.length) {
      const remediation = missing.length ? fix(ctx.host) : `chmod 755 ${notExec.map((p) => `${dir}/${p}`).join(' ')}   # or: kubecheck fix flannel-plugin --node ${ctx.host}`;
      return fail(problems.join('; '), { evidence, remediation, code: missing.length ? 'missing' : 'not-executable', ...(missing.length && notExec.length ? { codes: ['missing', 'not-executable'] } : {}) });
    }
    const flannelNote = ctx.phase === 'pre' && !byName.has('flannel') ? ' (flannel itself arrives with its DaemonSet)' : '';
    return pass(`${needed.join(', ')} present and executable${flannelNote}`, { evidence });
  },
};
