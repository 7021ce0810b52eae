import type { NetLink } from '../../core/facts.js';

interface IpJsonLink {
  ifname?: string;
  address?: string;
  link_type?: string;
  operstate?: string;
  flags?: string[];
  linkinfo?: { info_kind?: string };
  addr_info?: { family?: string; local?: string; prefixlen?: number }[];
}

const NO_MAC = /^(00:){5}00$/;

/** `ip -j addr show`: links with their MACs and addresses. Links without a link-layer address get no mac. */
export function parseIpAddrJson(text: string): NetLink[] {
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed)) throw new Error('ip -j addr did not print a JSON array');
  return (parsed as IpJsonLink[])
    .filter((link) => typeof link.ifname === 'string')
    .map((link) => {
      const mac = link.address && /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(link.address) && !NO_MAC.test(link.address)
        ? link.address.toLowerCase()
        : undefined;
      return {
        name: (link.ifname as string).replace(/@.*$/, ''),
        ...(mac ? { mac } : {}),
        ...(link.linkinfo?.info_kind ? { kind: link.linkinfo.info_kind } : link.link_type ? { kind: link.link_type } : {}),
        up: (link.flags ?? []).includes('UP'),
        addresses: (link.addr_info ?? [])
          .filter((a) => (a.family === 'inet' || a.family === 'inet6') && typeof a.local === 'string')
          .map((a) => ({ family: a.family as 'inet' | 'inet6', address: a.local as string, prefix: a.prefixlen ?? 0 })),
      };
    });
}

/** The sysfs fallback (`name mac` per line) for hosts without `ip` or without its JSON output. */
export function parseSysNet(text: string): NetLink[] {
  return text
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((cols) => cols[0])
    .map(([name, address]) => {
      const mac = address && address !== '-' && /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(address) && !NO_MAC.test(address)
        ? address.toLowerCase()
        : undefined;
      return { name, ...(mac ? { mac } : {}), up: false, addresses: [] };
    });
}
