// Address arithmetic for pod CIDRs and flannel subnets (IPv4 and IPv6), as BigInts.

export interface Cidr {
  family: 4 | 6;
  /** The network address as a number (host bits cleared). */
  network: bigint;
  prefix: number;
  text: string;
}

function parseIPv4(text: string): bigint | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let n = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return null;
    n = (n << 8n) | BigInt(Number(p));
  }
  return n;
}

function parseIPv6(text: string): bigint | null {
  const [head, tail, extra] = text.split('::');
  if (extra !== undefined) return null;
  const groups = (s: string | undefined) => (s ? s.split(':') : []);
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const missing = 8 - h.length - t.length;
  if ((tail === undefined && missing !== 0) || missing < 0) return null;
  let n = 0n;
  for (const g of [...h, ...Array(tail === undefined ? 0 : missing).fill('0'), ...t]) {
    if (!/^[0-9a-f]{1,4}$/i.test(g)) return null;
    n = (n << 16n) | BigInt(parseInt(g, 16));
  }
  return n;
}

export function parseIp(text: string): { family: 4 | 6; value: bigint } | null {
  const v4 = parseIPv4(text);
  if (v4 !== null) return { family: 4, value: v4 };
  const v6 = parseIPv6(text);
  return v6 === null ? null : { family: 6, value: v6 };
}

/** `10.244.3.1/24` (an address with its prefix, as subnet.env and `ip addr` write them) or `10.244.0.0/16`. */
export function parseCidr(text: string): Cidr | null {
  const m = /^([^/\s]+)\/(\d{1,3})$/.exec(text.trim());
  if (!m) return null;
  const ip = parseIp(m[1]);
  const prefix = Number(m[2]);
  if (!ip || prefix > (ip.family === 4 ? 32 : 128)) return null;
  const bits = BigInt(ip.family === 4 ? 32 : 128);
  const mask = ((1n << bits) - 1n) ^ ((1n << (bits - BigInt(prefix))) - 1n);
  return { family: ip.family, network: ip.value & mask, prefix, text: text.trim() };
}

/** Whether `inner` (a CIDR or an address) lies inside `outer`. */
export function cidrContains(outer: Cidr, inner: Cidr | { family: 4 | 6; value: bigint }): boolean {
  if (outer.family !== inner.family) return false;
  const bits = BigInt(outer.family === 4 ? 32 : 128);
  const value = 'value' in inner ? inner.value : inner.network;
  const prefix = 'prefix' in inner ? inner.prefix : Number(bits);
  if (prefix < outer.prefix) return false;
  const mask = ((1n << bits) - 1n) ^ ((1n << (bits - BigInt(outer.prefix))) - 1n);
  return (value & mask) === outer.network;
}

/** Same network and prefix (10.244.3.1/24 and 10.244.3.0/24 are the same subnet). */
export const sameSubnet = (a: Cidr, b: Cidr) => a.family === b.family && a.prefix === b.prefix && a.network === b.network;
