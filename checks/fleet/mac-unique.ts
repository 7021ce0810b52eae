import type { NetLink } from '../../src/core/facts.js';
import type { FleetCheck, Finding } from '../../src/core/types.js';
import { fail, pass, unreadable } from '../../src/core/findings.js';
import { hostsByValue, othersWith, someHosts } from './group.js';

/** Links whose MACs are made per host by software (CNI bridges, veths, tunnels) and may repeat legitimately. */
const VIRTUAL = /^(lo|cni\d*|flannel[.\w-]*|veth.*|docker\d*|br-[0-9a-f]+|cali.*|vxlan[.\w-]*|cilium_.*|lxc.*|kube-ipvs\d*|kube-bridge|tunl\d*|weave|datapath|vxlan-\d+|virbr\d*(-nic)?|nodelocaldns|genev_sys_\d+|wg\d+|tun\d+|tap.*|dummy\d*)$/;

export const isPhysicalLink = (link: NetLink): link is NetLink & { mac: string } => !!link.mac && !VIRTUAL.test(link.name);

export const macUnique: FleetCheck = {
  kind: 'fleet',
  id: 'fleet.mac-unique',
  title: 'Every host has its own MAC addresses',
  area: 'fleet',
  codes: {
    'duplicate': 'another host has one of this host’s MAC addresses',
  },
  why:
    'Cloned VMs can keep their source MAC; two hosts with one MAC on a network lose packets at random and ' +
    'break node identity. Loopback and CNI/virtual links (cni0, flannel.*, veth*, docker0, cali*, …) are ignored.',
  remediation: 'give the NIC a new MAC in the hypervisor (or `ip link set dev IFACE address NEW` and persist it) and reboot',
  run(members) {
    const macsOf = (links: NetLink[]) => links.filter(isPhysicalLink);
    const groups = hostsByValue(members, (m) => (m.facts.links.ok ? macsOf(m.facts.links.value).map((l) => l.mac) : []));
    const out = new Map<string, Finding>();
    for (const m of members) {
      if (!m.facts.links.ok) {
        out.set(m.host, unreadable(m.facts.links, 'network links'));
        continue;
      }
      const links = macsOf(m.facts.links.value);
      const clashes = links
        .map((l) => ({ link: l, others: othersWith(groups, l.mac, m.host) }))
        .filter((c) => c.others.length > 0);
      const evidence = { links: links.map((l) => `${l.name} ${l.mac}`).join('\n') };
      out.set(m.host, clashes.length
        ? fail(clashes.map((c) => `MAC ${c.link.mac} (${c.link.name}) is also on ${someHosts(c.others)}`).join('; '), { evidence, code: 'duplicate' })
        : pass(`${links.length} MAC address${links.length === 1 ? '' : 'es'} unique (${links.map((l) => l.name).join(', ') || 'none'})`, { evidence }));
    }
    return out;
  },
};
