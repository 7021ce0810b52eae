import type { NodeCheck } from '../../src/core/types.js';
import { fail, pass, unreadable, warn } from '../../src/core/findings.js';
import { defaultRouteAddress, hostAddresses, isLoopback } from '../../src/collectors/node/node-address.js';

const DNS1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export const hostname: NodeCheck = {
  kind: 'node',
  id: 'node.hostname',
  title: 'The hostname is a valid node name and resolves to this host',
  area: 'node',
  codes: {
    'invalid-name': 'the hostname is not a valid node name (RFC 1123: lower-case letters, digits, - and .)',
    uppercase: 'the hostname has capital letters: the node registers under its lower-case form',
    unresolvable: 'the hostname does not resolve (/etc/hosts, DNS): kubeadm warns, the kubelet falls back to the default route',
    'resolves-elsewhere': 'the hostname resolves only to addresses that are not on this host: the kubelet would register one of them',
  },
  why:
    'The node is named after the hostname (lower-cased) and the API rejects a name that is not an RFC 1123 ' +
    'subdomain. kubeadm looks the name up (its Hostname check) and the kubelet registers the first ' +
    'non-loopback address it resolves to: a name that resolves to another machine\'s address gives the node the wrong address.',
  remediation: 'hostnamectl set-hostname NAME (lower case) and add "NODE-ADDRESS NAME" to /etc/hosts on every host',
  run(facts) {
    const name = facts.hostname;
    const lower = name.toLowerCase();
    const evidence: Record<string, string> = { hostname: name, resolves: facts.hostnameAddresses.ok ? facts.hostnameAddresses.value.join(' ') || 'nothing' : facts.hostnameAddresses.detail };
    if (!name) return unreadable({ ok: false, reason: 'error', detail: 'empty /proc/sys/kernel/hostname' }, 'the hostname');
    if (lower.length > 253 || !DNS1123.test(lower)) {
      return fail(`hostname '${name}' is not a valid node name (RFC 1123: lower-case letters, digits, '-' and '.', starting and ending alphanumeric)`, { evidence, code: 'invalid-name' });
    }
    if (!facts.hostnameAddresses.ok) return unreadable(facts.hostnameAddresses, `what ${name} resolves to`);
    const route = defaultRouteAddress(facts);
    const fallback = route?.address ? `the kubelet will use ${route.address} (default route via ${route.dev})` : 'the kubelet has no default route to fall back to';
    const addresses = facts.hostnameAddresses.value;
    if (addresses.length === 0) {
      return warn(`hostname '${name}' does not resolve (kubeadm: "hostname could not be reached"); ${fallback}`, { evidence, code: 'unresolvable', remediation: `echo "${route?.address ?? 'NODE-ADDRESS'} ${lower}" >> /etc/hosts` });
    }
    const mine = new Set(hostAddresses(facts));
    const outside = addresses.filter((a) => !isLoopback(a));
    if (outside.length && !outside.some((a) => mine.has(a))) {
      return fail(`hostname '${name}' resolves to ${outside.join(', ')}, not an address of this host (its addresses: ${[...mine].join(', ')}): the node would register a wrong address`, {
        evidence, code: 'resolves-elsewhere', remediation: `fix /etc/hosts (or DNS): ${route?.address ?? 'NODE-ADDRESS'} ${lower}`,
      });
    }
    if (name !== lower) return warn(`hostname '${name}' has capital letters: the node registers as '${lower}'`, { evidence, code: 'uppercase', remediation: `hostnamectl set-hostname ${lower}` });
    const first = outside.find((a) => mine.has(a));
    return pass(first ? `${name} resolves to ${first}, on this host` : `${name} resolves to the loopback (${addresses.join(', ')}); ${fallback}`, { evidence });
  },
};
