import type { NodeFacts } from '../../src/core/facts.js';
import type { NodeCheck } from '../../src/core/types.js';
import { fail, pass, skip } from '../../src/core/findings.js';
import { cidrContains, parseCidr, parseIp } from '../../src/core/cidr.js';
import { notFlannel } from './applies.js';

/**
 * cni0's IPv4 addresses that lie outside the node's flannel subnet (subnet.env), or null when there is no
 * cni0 or no subnet to compare with. Shared by this check and doctor's cni0-ip-conflict rule.
 */
export function staleCni0(facts: NodeFacts): { subnet: string; outside: string[] } | null {
  const link = facts.links.ok ? facts.links.value.find((l) => l.name === 'cni0') : undefined;
  const subnetText = facts.cni.subnetEnv.ok ? facts.cni.subnetEnv.value.FLANNEL_SUBNET : undefined;
  const subnet = subnetText ? parseCidr(subnetText) : null;
  if (!link || !subnet || !subnetText) return null;
  const outside = link.addresses
    .filter((a) => a.family === 'inet')
    .filter((a) => {
      const ip = parseIp(a.address);
      return !ip || !cidrContains(subnet, ip);
    })
    .map((a) => `${a.address}/${a.prefix}`);
  return { subnet: subnetText, outside };
}

export const cni0: NodeCheck = {
  kind: 'node',
  id: 'cni.cni0',
  title: 'cni0 carries an address inside the node\'s flannel subnet',
  area: 'cni',
  codes: {
    'not-flannel': 'the host runs another CNI: flannel\'s files do not apply',
    'leftover': 'pre-install: cni0 or flannel.1 left from an earlier cluster',
    'stale-address': "cni0 carries an address outside the node's flannel subnet: every new pod fails",
    'no-subnet': 'no flannel subnet to compare cni0 with',
  },
  why:
    'The bridge plugin gives cni0 the first address of the node\'s flannel subnet. After a kubeadm reset and ' +
    're-join the node gets a new subnet but the old cni0 keeps its address, and every pod fails with ' +
    '"failed to set bridge addr: \\"cni0\\" already has an IP address different from …".',
  remediation: 'kubecheck fix cni0 --node NODE',
  run(facts, ctx) {
    const other = notFlannel(facts);
    if (other) return other;
    if (!facts.links.ok) return skip(`network links unknown: ${facts.links.detail}`, { code: 'unreadable' });
    const cni0Link = facts.links.value.find((l) => l.name === 'cni0');
    const flannel1 = facts.links.value.find((l) => l.name === 'flannel.1');
    const fix = `kubecheck fix cni0 --node ${ctx.host} --apply`;
    const addrs = (cni0Link?.addresses ?? []).filter((a) => a.family === 'inet');
    const evidence = {
      links: facts.links.value.filter((l) => l.name === 'cni0' || l.name === 'flannel.1').map((l) => `${l.name}: ${l.addresses.map((a) => `${a.address}/${a.prefix}`).join(', ') || 'no address'}`).join('\n') || 'no cni0, no flannel.1',
      ...(facts.cni.subnetEnv.ok ? { '/run/flannel/subnet.env': `FLANNEL_SUBNET=${facts.cni.subnetEnv.value.FLANNEL_SUBNET ?? ''}` } : {}),
    };
    if (ctx.phase === 'pre') {
      if (cni0Link || flannel1) {
        return fail(`leftover ${[cni0Link && 'cni0', flannel1 && 'flannel.1'].filter(Boolean).join(' and ')} from an earlier cluster: after joining, the new subnet will clash with it`, { evidence, remediation: fix, code: 'leftover' });
      }
      return pass('no leftover cni0 or flannel.1');
    }
    if (!cni0Link) return pass('no cni0 yet (created with the first pod on this node)', { evidence });
    const stale = staleCni0(facts);
    if (!stale) return skip('no flannel subnet to compare cni0 with (see cni.flannel-subnet)', { evidence, code: 'no-subnet' });
    if (stale.outside.length) {
      return fail(`cni0 has ${stale.outside.join(', ')} but this node's flannel subnet is ${stale.subnet}: cni0 already has an IP address different from ${stale.subnet}`, { evidence, remediation: fix, code: 'stale-address' });
    }
    return pass(addrs.length ? `cni0 ${addrs.map((a) => `${a.address}/${a.prefix}`).join(', ')} is inside ${stale.subnet}` : 'cni0 has no address yet', { evidence });
  },
};
