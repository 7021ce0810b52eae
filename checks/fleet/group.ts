import type { FleetMember } from '../../src/core/types.js';
import { natural } from '../../src/core/order.js';

/** Hosts grouped by a value, each group in natural order. */
export type HostGroups = Map<string, string[]>;

/** Groups hosts by a value (a product_uuid, a MAC, a hostname); each host may carry several values. */
export function hostsByValue(members: readonly FleetMember[], values: (m: FleetMember) => string[]): HostGroups {
  const sets = new Map<string, Set<string>>();
  for (const m of members) {
    for (const v of values(m)) {
      let hosts = sets.get(v);
      if (!hosts) sets.set(v, (hosts = new Set()));
      hosts.add(m.host);
    }
  }
  // Each group sorted once: a fleet of cloned VMs shares one product_uuid, and sorting that group again
  // for each of its thousands of hosts was most of a 5,000-node run's CPU.
  return new Map([...sets].map(([v, hosts]) => [v, [...hosts].sort(natural)]));
}

/** The other hosts sharing `value` with `host`, sorted. */
export function othersWith(groups: HostGroups, value: string, host: string): string[] {
  return (groups.get(value) ?? []).filter((h) => h !== host);
}

/** A list of hosts for a message, at most `max` named: "a, b, c and 4997 more" (a fleet of thousands stays readable and small). */
export function someHosts(hosts: readonly string[], max = 8): string {
  return hosts.length <= max ? hosts.join(', ') : `${hosts.slice(0, max).join(', ')} and ${hosts.length - max} more`;
}
