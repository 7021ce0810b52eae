import type { FleetCheck, FleetMember, Finding } from '../../src/core/types.js';
import { fail, pass, unreadable, warn } from '../../src/core/findings.js';
import { parseIp } from '../../src/core/cidr.js';
import { someHosts } from './group.js';
import { defaultRouteAddress, hostAddresses, isLoopback, kubeletAddress } from '../../src/collectors/node/node-address.js';

const nodeAddress = (m: FleetMember) => kubeletAddress(m.facts).address;

export const nodeIp: FleetCheck = {
  kind: 'fleet',
  id: 'fleet.node-ip',
  title: 'Each node will register the address the others reach it at',
  area: 'fleet',
  probes: ['names'],
  codes: {
    'not-inventory-address': 'the kubelet/flannel/kubeadm would pick another of the host\'s addresses than the one it is reached at (multi-NIC host)',
    'duplicate': 'two hosts would register the same node address (a NAT interface that every VM has)',
    'name-unresolved': 'another host\'s name does not resolve on this host',
    'name-elsewhere': 'another host\'s name resolves on this host, but not to that host\'s node address',
    'no-address': 'no address can be chosen: no default route and the hostname does not resolve',
  },
  why:
    'kubeadm advertises, flannel sends VXLAN from, and the kubelet registers the address of the default ' +
    'route\'s interface (or what the hostname resolves to). On hosts with two NICs — the install guides\' ' +
    'VirtualBox NAT + host-only setup — that is the NAT address, the same 10.0.2.15 on every VM: nodes ' +
    'register one address, pods on different nodes cannot reach each other and `kubectl logs` dials the ' +
    'wrong host. Names that resolve elsewhere (or not at all) break the same things by another route.',
  remediation:
    'Pin the address the hosts reach each other at: kubelet --node-ip=ADDR (KUBELET_EXTRA_ARGS in ' +
    '/etc/default/kubelet), kubeadm init --apiserver-advertise-address=ADDR, flannel --iface=IFACE (args of ' +
    'the kube-flannel container); and list every host as "ADDR NAME" in /etc/hosts on every host.',
  run(members, ctx) {
    const out = new Map<string, Finding>();
    const byNode = new Map<string, FleetMember[]>();
    for (const m of members) {
      const a = nodeAddress(m);
      if (!a) continue;
      const same = byNode.get(a);
      if (same) same.push(m);
      else byNode.set(a, [m]);
    }
    const lookups = ctx.probes?.names;
    // Indexed once: a fleet of thousands must not scan every lookup for every pair of hosts.
    const lookupOf = new Map<string, NonNullable<typeof lookups>['lookups'][number]>();
    const lookedFrom = new Map<string, NonNullable<typeof lookups>['lookups'][number][]>();
    for (const l of lookups?.lookups ?? []) {
      lookupOf.set(`${l.from}\u0000${l.name}`, l);
      const from = lookedFrom.get(l.from);
      if (from) from.push(l);
      else lookedFrom.set(l.from, [l]);
    }
    const sharing = new Map<string, number>();
    for (const x of members) if (x.facts.hostname) sharing.set(x.facts.hostname, (sharing.get(x.facts.hostname) ?? 0) + 1);
    for (const m of members) {
      const node = kubeletAddress(m.facts);
      const route = defaultRouteAddress(m.facts);
      if (!m.facts.links.ok) {
        out.set(m.host, unreadable(m.facts.links, 'the host\'s addresses (ip -j addr)'));
        continue;
      }
      const evidence: Record<string, string> = {
        'node address': node.address ? `${node.address} (${node.why})` : node.why,
        'default route': route ? `${route.dev}${route.address ? ` ${route.address}` : ''}` : 'none',
        ...(m.address ? { 'reached at': m.address } : {}),
      };
      const problems: { code: string; text: string; severe: boolean }[] = [];
      if (!node.address) problems.push({ code: 'no-address', text: 'no node address can be chosen: no default route and the hostname does not resolve', severe: true });
      const dup = node.address ? (byNode.get(node.address) ?? []).filter((o) => o !== m) : [];
      if (dup.length) problems.push({ code: 'duplicate', text: `would register ${node.address}, as ${someHosts(dup.map((o) => o.host))} would`, severe: true });
      // The inventory address only says something when it is one of the host's own (not NAT or a jump).
      const own = hostAddresses(m.facts);
      const reached = m.address && parseIp(m.address) ? m.address : undefined;
      if (node.address && reached && own.includes(reached) && reached !== node.address && !isLoopback(reached)) {
        const dev = m.facts.links.value.find((l) => l.addresses.some((a) => a.address === reached))?.name;
        problems.push({ code: 'not-inventory-address', text: `is reached at ${reached}${dev ? ` (${dev})` : ''} but would register ${node.address} (${node.why})`, severe: false });
      }
      if (lookups && !lookups.skipped) {
        for (const o of members) {
          // A name two hosts share is fleet.hostname-unique's finding; which host it should resolve to is moot.
          if (o === m || !o.facts.hostname || (sharing.get(o.facts.hostname) ?? 0) > 1) continue;
          const l = lookupOf.get(`${m.host}\u0000${o.facts.hostname}`);
          const want = nodeAddress(o);
          if (!l) continue;
          if (!l.addresses || l.addresses.length === 0) problems.push({ code: 'name-unresolved', text: `${o.facts.hostname} (${o.host}) does not resolve here${l.detail ? ` (${l.detail})` : ''}`, severe: false });
          else if (want && !l.addresses.includes(want)) problems.push({ code: 'name-elsewhere', text: `${o.facts.hostname} resolves here to ${l.addresses.join(', ')}, not to its node address ${want}`, severe: false });
        }
        const looked = (lookedFrom.get(m.host) ?? []).filter((x) => x.name !== m.facts.hostname);
        if (looked.length) evidence['names looked up'] = someHosts(looked.map((x) => `${x.name} → ${x.addresses?.join(' ') || 'nothing'}`), 50);
      }
      if (!problems.length) {
        out.set(m.host, pass(`registers ${node.address} (${node.why})${lookups && !lookups.skipped ? ', and the other hosts\' names resolve to their node addresses' : ''}`, { evidence }));
        continue;
      }
      const first = problems.find((p) => p.severe) ?? problems[0];
      const message = problems.slice(0, 8).map((p) => p.text).join('; ') + (problems.length > 8 ? `; and ${problems.length - 8} more` : '');
      out.set(m.host, first.severe ? fail(message, { evidence, code: first.code }) : warn(message, { evidence, code: first.code }));
    }
    if (lookups?.skipped && members.length > 1) {
      for (const [host, f] of out) if (f.status === 'pass') out.set(host, { ...f, message: `${f.message} (names not looked up: ${lookups.skipped})` });
    }
    return out;
  },
};
