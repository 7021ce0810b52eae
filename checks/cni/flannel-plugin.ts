import type { NodeCheck } from '../../src/core/types.js';
import { fail, pass, unreadable } from '../../src/core/findings.js';

export const BASE_PLUGINS = ['bridge', 'host-local', 'loopback', 'portmap'];

export const flannelPlugin: NodeCheck = {
  kind: 'node',
  id: 'cni.flannel-plugin',
  title: 'The flannel CNI plugin and the base plugins are installed and executable',
  area: 'cni',
  codes: {
    'no-plugin-dir': '/opt/cni/bin does not exist: no CNI plugins installed',
    'missing': 'a required plugin (flannel, bridge, host-local, loopback, portmap) is not in /opt/cni/bin',
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
    const bins = facts.cni.binaries;
    const required = Array.isArray(ctx.params.plugins) ? (ctx.params.plugins as string[]) : ['flannel', ...BASE_PLUGINS];
    // Before install the flannel DaemonSet has not copied its plugin yet; the base plugins come with kubeadm.
    const needed = ctx.phase === 'pre' ? required.filter((p) => p !== 'flannel') : required;
    const fix = (node: string) => `kubecheck fix flannel-plugin --node ${node} --from DIR_WITH_PLUGINS`;
    if (!bins.ok) {
      if (bins.reason === 'missing') return fail(`/opt/cni/bin does not exist: no CNI plugins installed (${needed.join(', ')} needed)`, { remediation: `apt-get install -y kubernetes-cni   # then: ${fix(ctx.host)}`, code: 'no-plugin-dir' });
      return unreadable(bins, '/opt/cni/bin');
    }
    const evidence = { '/opt/cni/bin': bins.value.map((b) => `${b.executable ? 'x' : '-'} ${b.name}`).join('\n') };
    const byName = new Map(bins.value.map((b) => [b.name, b]));
    const missing = needed.filter((p) => !byName.has(p));
    const notExec = needed.filter((p) => byName.has(p) && !byName.get(p)!.executable);
    const problems = [
      ...(missing.length ? [`missing in /opt/cni/bin: ${missing.join(', ')}${missing.includes('flannel') ? ' (failed to find plugin "flannel" in path [/opt/cni/bin])' : ''}`] : []),
      ...(notExec.length ? [`not executable: ${notExec.map((p) => `/opt/cni/bin/${p}`).join(', ')}`] : []),
    ];
    if (problems.length) {
      const remediation = missing.length ? fix(ctx.host) : `chmod 755 ${notExec.map((p) => `/opt/cni/bin/${p}`).join(' ')}   # or: kubecheck fix flannel-plugin --node ${ctx.host}`;
      return fail(problems.join('; '), { evidence, remediation, code: missing.length ? 'missing' : 'not-executable', ...(missing.length && notExec.length ? { codes: ['missing', 'not-executable'] } : {}) });
    }
    const flannelNote = ctx.phase === 'pre' && !byName.has('flannel') ? ' (flannel itself arrives with its DaemonSet)' : '';
    return pass(`${needed.join(', ')} present and executable${flannelNote}`, { evidence });
  },
};
