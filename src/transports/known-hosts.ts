// OpenSSH known_hosts: plain and hashed (|1|salt|hash) host patterns, [host]:port, wildcards, negation,
// @revoked. A key that differs from the one on record is a loud error, never silently accepted.
import { createHmac } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface KnownHostsEntry {
  marker?: '@revoked' | '@cert-authority';
  patterns: string[];
  keyType: string;
  key: Buffer;
  line: number;
}

export type HostKeyVerdict =
  | { kind: 'match'; line: number }
  | { kind: 'mismatch'; line: number; keyType: string }
  | { kind: 'revoked'; line: number }
  | { kind: 'unknown' };

export function parseKnownHosts(text: string): KnownHostsEntry[] {
  const entries: KnownHostsEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const cols = line.split(/\s+/);
    let marker: KnownHostsEntry['marker'];
    if (cols[0] === '@revoked' || cols[0] === '@cert-authority') marker = cols.shift() as KnownHostsEntry['marker'];
    if (cols.length < 3) return;
    const [hosts, keyType, b64] = cols;
    entries.push({ ...(marker ? { marker } : {}), patterns: hosts.split(','), keyType, key: Buffer.from(b64, 'base64'), line: i + 1 });
  });
  return entries;
}

/** The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise. */
export const knownHostsName = (host: string, port: number) => (port === 22 ? host : `[${host}]:${port}`);

const globs = new Map<string, RegExp>();

function globMatch(pattern: string, name: string): boolean {
  if (!/[*?]/.test(pattern)) return pattern.toLowerCase() === name.toLowerCase();
  let re = globs.get(pattern);
  if (!re) {
    re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
    globs.set(pattern, re);
  }
  return re.test(name);
}

function patternMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith('|1|')) {
    const [, , salt, hash] = pattern.split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  return globMatch(pattern, name);
}

/** Whether an entry's host list names `name` (a negated pattern that matches excludes it). */
export function entryMatches(entry: KnownHostsEntry, name: string): boolean {
  let hit = false;
  for (const p of entry.patterns) {
    if (p.startsWith('!')) {
      if (patternMatches(p.slice(1), name)) return false;
    } else if (patternMatches(p, name)) hit = true;
  }
  return hit;
}

/** The key type named inside an SSH wire-format public key blob. */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return '';
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString('latin1');
}

export function verifyHostKey(entries: KnownHostsEntry[], name: string, presented: Buffer): HostKeyVerdict {
  const type = keyTypeOf(presented);
  const mine = entries.filter((e) => e.marker !== '@cert-authority' && entryMatches(e, name));
  const revoked = mine.find((e) => e.marker === '@revoked' && e.key.equals(presented));
  if (revoked) return { kind: 'revoked', line: revoked.line };
  const match = mine.find((e) => !e.marker && e.key.equals(presented));
  if (match) return { kind: 'match', line: match.line };
  const sameType = mine.find((e) => !e.marker && e.keyType === type);
  if (sameType) return { kind: 'mismatch', line: sameType.line, keyType: type };
  return { kind: 'unknown' };
}

/** The key types on record for a host, so the handshake asks for one we can verify. */
export function knownKeyTypes(entries: KnownHostsEntry[], name: string): string[] {
  return [...new Set(entries.filter((e) => !e.marker && entryMatches(e, name)).map((e) => e.keyType))];
}

/** A known_hosts file read once per run; accept-new appends to it. */
export class KnownHostsFile {
  private entries: KnownHostsEntry[];

  constructor(readonly path: string) {
    this.entries = existsSync(path) ? parseKnownHosts(readFileSync(path, 'utf8')) : [];
  }

  verify(name: string, key: Buffer): HostKeyVerdict {
    return verifyHostKey(this.entries, name, key);
  }

  keyTypes(name: string): string[] {
    return knownKeyTypes(this.entries, name);
  }

  add(name: string, key: Buffer): void {
    const line = `${name} ${keyTypeOf(key)} ${key.toString('base64')}\n`;
    mkdirSync(dirname(this.path), { recursive: true });
    appendFileSync(this.path, line, { mode: 0o600 });
    this.entries.push(...parseKnownHosts(line).map((e) => ({ ...e, line: this.entries.length + 1 })));
  }
}

/** Several known_hosts files read as one, as ssh reads UserKnownHostsFile: any file may vouch for a key, new keys go to the first. */
export class KnownHostsFiles {
  constructor(readonly files: KnownHostsFile[]) {}

  get path(): string {
    return this.files[0].path;
  }

  verify(name: string, key: Buffer): HostKeyVerdict & { path: string } {
    const verdicts = this.files.map((f) => ({ ...f.verify(name, key), path: f.path }));
    return verdicts.find((v) => v.kind === 'revoked') ?? verdicts.find((v) => v.kind === 'match') ?? verdicts.find((v) => v.kind === 'mismatch') ?? { kind: 'unknown', path: this.path };
  }

  keyTypes(name: string): string[] {
    return [...new Set(this.files.flatMap((f) => f.keyTypes(name)))];
  }

  add(name: string, key: Buffer): void {
    this.files[0].add(name, key);
  }
}
