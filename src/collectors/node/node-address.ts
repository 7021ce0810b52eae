// Which address a host's node will have: kubeadm advertises, and flannel uses, the first global address
// of the default route's interface; the kubelet registers the first non-loopback address its hostname
// resolves to, else that same default-route address (k8s.io/apimachinery ChooseHostInterface).
import type { NodeFacts } from '../../core/facts.js';
import { parseIp } from '../../core/cidr.js';

const loopback = (a: string) => a.startsWith('127.') || a === '::1';
const linkLocal = (a: string) => a.startsWith('169.254.') || /^fe80:/i.test(a);

/** The host's own addresses (all interfaces). */
export function hostAddresses(facts: Pick<NodeFacts, 'links'>): string[] {
  return facts.links.ok ? facts.links.value.flatMap((l) => l.addresses.map((a) => a.address)) : [];
}

/** The default route's interface and its first global IPv4 address (kubeadm's and flannel's pick). */
export function defaultRouteAddress(facts: Pick<NodeFacts, 'links' | 'defaultRoutes'>): { dev: string; address?: string } | undefined {
  if (!facts.defaultRoutes.ok) return undefined;
  const route = facts.defaultRoutes.value.find((r) => r.family === 'inet') ?? facts.defaultRoutes.value[0];
  if (!route) return undefined;
  const link = facts.links.ok ? facts.links.value.find((l) => l.name === route.dev) : undefined;
  const address = route.prefsrc ?? link?.addresses.find((a) => a.family === (route.family) && !linkLocal(a.address))?.address;
  return { dev: route.dev, ...(address ? { address } : {}) };
}

/** The address the kubelet will register, and why that one. */
export function kubeletAddress(facts: Pick<NodeFacts, 'links' | 'defaultRoutes' | 'hostnameAddresses' | 'hostname'>): { address?: string; why: string } {
  const resolved = facts.hostnameAddresses.ok ? facts.hostnameAddresses.value.filter((a) => !loopback(a) && parseIp(a)?.family === 4) : [];
  if (resolved.length) return { address: resolved[0], why: `what ${facts.hostname} resolves to` };
  const route = defaultRouteAddress(facts);
  return route?.address ? { address: route.address, why: `the default route's interface ${route.dev}` } : { why: 'no default route and the hostname does not resolve' };
}

export const isLoopback = loopback;
