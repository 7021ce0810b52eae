import type { NodeCheck } from '../../src/core/types.js';
import { fail, pass, skip } from '../../src/core/findings.js';
import { notFlannel } from './applies.js';

export const flannelVxlan: NodeCheck = {
  kind: 'node',
  id: 'cni.flannel-vxlan',
  title: 'flannel.1 (VXLAN) is up and UDP 8472 is bound',
  area: 'cni',
  codes: {
    'not-flannel': 'the host runs another CNI: flannel\'s files do not apply',
    'pre-install': 'pre-install: flannel.1 is not expected yet',
    'no-link': 'no flannel.1 (VXLAN) link',
    'not-vxlan': 'flannel.1 is not a VXLAN link',
    'down': 'flannel.1 is down',
    'no-udp-listener': 'flannel.1 exists but nothing is bound on UDP 8472',
  },
  why:
    'With the vxlan backend, pod traffic between nodes leaves through flannel.1 as UDP on port 8472. ' +
    'Without the link, or with 8472 blocked between hosts, pods on different nodes cannot reach each other.',
  remediation: 'kubectl -n kube-flannel logs -l app=flannel --tail 50; open UDP 8472 between all nodes in the firewall',
  run(facts, ctx) {
    const other = notFlannel(facts);
    if (other) return other;
    if (ctx.phase === 'pre') return skip('pre-install: flannel.1 appears when flanneld starts', { code: 'pre-install' });
    if (!facts.links.ok) return skip(`network links unknown: ${facts.links.detail}`, { code: 'unreadable' });
    const link = facts.links.value.find((l) => l.name === 'flannel.1');
    const udp = facts.listeners.ok ? facts.listeners.value.find((l) => l.proto === 'udp' && l.port === 8472) : undefined;
    const evidence = { 'flannel.1': link ? `kind=${link.kind ?? '?'} up=${link.up} ${link.addresses.map((a) => `${a.address}/${a.prefix}`).join(', ')}` : 'absent', 'udp 8472': udp ? `bound on ${udp.address}` : 'not bound' };
    if (!link) return fail('no flannel.1 link: flanneld is not running here, or uses another backend', { evidence, code: 'no-link' });
    if (link.kind && link.kind !== 'vxlan') return fail(`flannel.1 is a ${link.kind} link, not vxlan`, { evidence, code: 'not-vxlan' });
    if (!link.up) return fail('flannel.1 is down', { evidence, code: 'down' });
    if (facts.listeners.ok && !udp) return fail('flannel.1 exists but nothing is bound on UDP 8472', { evidence, code: 'no-udp-listener' });
    return pass(`flannel.1 up${udp ? ', UDP 8472 bound' : ''}`, { evidence });
  },
};
