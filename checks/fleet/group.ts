import type { FleetMember } from '../../src/core/types.js';
import { natural } from '../../src/core/order.js';

/** Groups hosts by a value (a product_uuid, a MAC, a hostname); each host may carry several values. */
export function hostsByValue(members: readonly FleetMember[], values: (m: FleetMember) => string[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const m of members) {
    for (const v of values(m)) {
      let hosts = out.get(v);
      if (!hosts) out.set(v, (hosts = new Set()));
      hosts.add(m.host);
    }
  }
  return out;
}

/** The other hosts sharing `value` with `host`, sorted. */
export function othersWith(groups: Map<string, Set<string>>, value: string, host: string): string[] {
  return [...(groups.get(value) ?? [])].filter((h) => h !== host).sort(natural);
}

/** A list of hosts for a message, at most `max` named: "a, b, c and 4997 more" (a fleet of thousands stays readable and small). */
export function someHosts(hosts: readonly string[], max = 8): string {
  return hosts.length <= max ? hosts.join(', ') : `${hosts.slice(0, max).join(', ')} and ${hosts.length - max} more`;
}
