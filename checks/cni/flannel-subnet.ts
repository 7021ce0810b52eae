import type { NodeCheck } from '../../src/core/types.js';
import { fail, pass, unreadable } from '../../src/core/findings.js';
import { cidrContains, parseCidr, sameSubnet } from '../../src/core/cidr.js';
import { notFlannel, restartFlannel } from './applies.js';

export const flannelSubnet: NodeCheck = {
  kind: 'node',
  id: 'cni.flannel-subnet',
  title: 'flannel\'s subnet.env exists and matches the node\'s pod CIDR',
  area: 'cni',
  codes: {
    'not-flannel': 'the host runs another CNI: flannel\'s files do not apply',
    'missing': '/run/flannel/subnet.env is missing: the flannel plugin fails every pod',
    'invalid': 'subnet.env has no valid FLANNEL_SUBNET',
    'podcidr-mismatch': "FLANNEL_SUBNET is not the node's podCIDR (stale from an earlier join)",
    'outside-network': 'FLANNEL_SUBNET is outside FLANNEL_NETWORK',
  },
  why:
    'flanneld writes /run/flannel/subnet.env when it gets the node\'s lease; the flannel CNI plugin reads it ' +
    'for every pod ("open /run/flannel/subnet.env: no such file or directory" while it is missing). Its ' +
    'subnet must be the node\'s podCIDR, inside FLANNEL_NETWORK.',
  remediation: 'kubectl -n kube-flannel delete pod -l app=flannel --field-selector spec.nodeName=NODE   # flanneld rewrites subnet.env when it starts',
  run(facts, ctx) {
    const other = notFlannel(facts);
    if (other) return other;
    const env = facts.cni.subnetEnv;
    if (!env.ok) {
      if (env.reason === 'missing') {
        return ctx.phase === 'pre' ? pass('no /run/flannel/subnet.env yet (written when flanneld starts)') : fail('open /run/flannel/subnet.env: no such file or directory (flanneld is not running on this node, or has not got its lease)', { code: 'missing', remediation: `${restartFlannel(facts, ctx.host)}   # flanneld writes subnet.env when it starts` });
      }
      return unreadable(env, '/run/flannel/subnet.env');
    }
    const v = env.value;
    const evidence = { '/run/flannel/subnet.env': Object.entries(v).map(([k, x]) => `${k}=${x}`).join('\n') };
    const subnet = v.FLANNEL_SUBNET ? parseCidr(v.FLANNEL_SUBNET) : null;
    const network = v.FLANNEL_NETWORK ? parseCidr(v.FLANNEL_NETWORK) : null;
    if (!subnet) return fail(`subnet.env has no valid FLANNEL_SUBNET (${v.FLANNEL_SUBNET ?? 'missing'})`, { evidence, code: 'invalid' });
    if (ctx.podCIDRs && ctx.podCIDRs.length) {
      const cidrs = ctx.podCIDRs.map(parseCidr).filter((c): c is NonNullable<typeof c> => c !== null);
      if (!cidrs.some((c) => sameSubnet(c, subnet))) {
        return fail(`FLANNEL_SUBNET ${v.FLANNEL_SUBNET} is not this node's podCIDR (${ctx.podCIDRs.join(', ')}): a stale subnet.env from an earlier join`, {
          evidence: { ...evidence, podCIDRs: ctx.podCIDRs.join(', ') },
          remediation: `rm /run/flannel/subnet.env && ${restartFlannel(facts, ctx.host)}`,
          code: 'podcidr-mismatch',
        });
      }
      return pass(`FLANNEL_SUBNET ${v.FLANNEL_SUBNET} is the node's podCIDR`, { evidence });
    }
    if (network && !cidrContains(network, subnet)) {
      return fail(`FLANNEL_SUBNET ${v.FLANNEL_SUBNET} is outside FLANNEL_NETWORK ${v.FLANNEL_NETWORK}`, { evidence, code: 'outside-network', remediation: `${restartFlannel(facts, ctx.host)}   # flanneld rewrites subnet.env when it starts` });
    }
    return pass(`FLANNEL_SUBNET ${v.FLANNEL_SUBNET} inside FLANNEL_NETWORK ${v.FLANNEL_NETWORK ?? '?'}`, { evidence });
  },
};
