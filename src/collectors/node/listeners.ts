import type { Listener } from '../../core/facts.js';

/** Splits `addr:port` as ss prints it: `*:10250`, `[::]:22`, `127.0.0.53%lo:53`, `[::ffff:10.0.0.1]:2379`. */
export function splitHostPort(text: string): { address: string; port: number } | null {
  const colon = text.lastIndexOf(':');
  if (colon < 0) return null;
  const port = Number(text.slice(colon + 1));
  if (!Number.isInteger(port)) return null;
  let address = text.slice(0, colon);
  if (address.startsWith('[') && address.endsWith(']')) address = address.slice(1, -1);
  address = address.replace(/%.*$/, '');
  return { address, port };
}

/** `ss -Htulnp` (or the same without -H): listening TCP and bound UDP sockets with their processes. */
export function parseSsListen(text: string): Listener[] {
  const listeners: Listener[] = [];
  for (const line of text.split('\n')) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 5 || cols[0] === 'Netid' || cols[0] === 'State') continue;
    const proto = cols[0] === 'tcp' ? 'tcp' : cols[0] === 'udp' ? 'udp' : null;
    if (!proto) continue;
    const local = splitHostPort(cols[4]);
    if (!local) continue;
    const users = /users:\(\("((?:[^"\\]|\\.)*)",pid=(\d+)/.exec(line);
    listeners.push({
      proto,
      ...local,
      ...(users ? { process: users[1], pid: Number(users[2]) } : {}),
    });
  }
  return dedupe(listeners);
}

function hexToIPv4(hex: string): string {
  // /proc/net prints the address in host byte order (little-endian on x86 and arm64).
  const bytes = hex.match(/../g) ?? [];
  return bytes.reverse().map((b) => parseInt(b, 16)).join('.');
}

function hexToIPv6(hex: string): string {
  const words = hex.match(/.{8}/g) ?? [];
  const groups: string[] = [];
  for (const word of words) {
    const le = (word.match(/../g) ?? []).reverse().join('');
    groups.push(String(parseInt(le.slice(0, 4), 16).toString(16)), String(parseInt(le.slice(4), 16).toString(16)));
  }
  const full = groups.join(':');
  if (/^0(:0){7}$/.test(full)) return '::';
  if (full.startsWith('0:0:0:0:0:ffff:')) return `::ffff:${hexToIPv4(hex.slice(24))}`;
  return full;
}

/**
 * /proc/net/{tcp,tcp6,udp,udp6} under `== NAME` markers: the fallback on hosts without ss. It has no
 * process names, so checks can tell a port is taken but not by whom.
 */
export function parseProcNetListen(text: string): Listener[] {
  const listeners: Listener[] = [];
  let file = '';
  for (const line of text.split('\n')) {
    const marker = /^== (tcp6?|udp6?)$/.exec(line.trim());
    if (marker) {
      file = marker[1];
      continue;
    }
    const cols = line.trim().split(/\s+/);
    if (!file || cols.length < 4 || cols[0] === 'sl') continue;
    const [addrHex, portHex] = cols[1].split(':');
    const state = cols[3];
    const proto = file.startsWith('tcp') ? 'tcp' : 'udp';
    if ((proto === 'tcp' && state !== '0A') || (proto === 'udp' && state !== '07')) continue;
    listeners.push({
      proto,
      address: file.endsWith('6') ? hexToIPv6(addrHex) : hexToIPv4(addrHex),
      port: parseInt(portHex, 16),
    });
  }
  return dedupe(listeners);
}

function dedupe(listeners: Listener[]): Listener[] {
  const seen = new Set<string>();
  return listeners.filter((l) => {
    const key = `${l.proto}|${l.address}|${l.port}|${l.pid ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
