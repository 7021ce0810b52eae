// OpenSSH's client configuration, resolved the way `ssh` resolves it for a host: ~/.ssh/config, then
// /etc/ssh/ssh_config (or one file, as `ssh -F`), Include expanded in place, Host patterns with wildcards
// and negation, first value wins. The parsing and matching are the `ssh-config` package's; this module
// expands Include, records where each value came from (file and line), and reports Match blocks it
// does not evaluate (`Match exec` runs commands: never here).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import picomatch from 'picomatch';
import SSHConfig from 'ssh-config';
import { InputError } from '../core/errors.js';
import { localUser } from '../core/local-user.js';
import { sshHome, type Sourced } from './sourced.js';

/** The directives kubecheck follows (lower-case, as ssh -G prints them); the rest it does not need. */
export const SSH_KEYS = ['hostname', 'user', 'port', 'identityfile', 'identitiesonly', 'proxyjump', 'proxycommand', 'userknownhostsfile', 'stricthostkeychecking', 'connecttimeout'] as const;
export type SshKey = (typeof SSH_KEYS)[number];

/** What ssh_config sets for one host: each directive's values (IdentityFile may repeat), each with its file and line. */
export interface SshConfigValues {
  values: Map<SshKey, Sourced<string>[]>;
  /** Things kubecheck did not follow (a Match it does not evaluate, hostname canonicalisation), to be said, not ignored. */
  warnings: string[];
}

interface Line {
  text: string;
  file: string;
  line: number;
  /** The Host/Match lines an Include sat in: the line applies only for a host all of them match (as ssh reads an Include inside a block). */
  when: Line[];
}

interface Parsed {
  config: SSHConfig;
  /** The source line of each directive the parser returned. */
  origins: Map<object, Line>;
}

export interface LoadedSshConfig {
  files: string[];
  lines: Line[];
  warnings: string[];
  /** The parsed config for each combination of conditional Includes in force. */
  parsed: Map<string, Parsed>;
}

const home = () => sshHome();
const tilde = (p: string) => (p === '~' ? home() : p.startsWith('~/') ? join(home(), p.slice(2)) : p);
const show = (p: string) => (p.startsWith(`${home()}/`) ? `~/${p.slice(home().length + 1)}` : p);

/** Files matching an Include pattern (relative ones from ~/.ssh for the user's config, /etc/ssh for the system's). */
function includeTargets(pattern: string, base: string): string[] {
  const full = isAbsolute(tilde(pattern)) ? tilde(pattern) : join(base, pattern);
  if (!/[*?[]/.test(full)) return existsSync(full) ? [full] : [];
  const dir = dirname(full);
  if (!existsSync(dir)) return [];
  const match = picomatch(basename(full));
  return readdirSync(dir).filter((n) => match(n)).sort().map((n) => join(dir, n)).filter((p) => statSync(p).isFile());
}

/**
 * A file's lines with Include expanded in place. An Include inside a Host or Match block counts only for
 * hosts that block matches (its lines carry the block's header in `when`); after it the outer block goes on.
 */
function expand(file: string, base: string, depth: number, when: Line[], warnings: string[]): Line[] {
  if (depth > 16) {
    warnings.push(`${show(file)}: Include nested more than 16 deep: not followed`);
    return [];
  }
  const out: Line[] = [];
  let header: Line | undefined;
  readFileSync(file, 'utf8').split('\n').forEach((text, i) => {
    const here: Line = { text, file: show(file), line: i + 1, when };
    const m = /^\s*(\w+)\s*(?:=\s*|\s+)(.*)$/.exec(text);
    const keyword = m?.[1].toLowerCase();
    if (keyword === 'host' || keyword === 'match') header = here;
    if (keyword !== 'include') {
      out.push(here);
      return;
    }
    const inner = header ? [...when, header] : when;
    const included: Line[] = [];
    for (const pattern of m![2].trim().split(/\s+/)) {
      for (const target of includeTargets(pattern.replace(/^"|"$/g, ''), base)) included.push(...expand(target, base, depth + 1, inner, warnings));
    }
    out.push(...included);
    // The included files' own blocks end with them: what follows belongs to the block the Include was in.
    if (included.some((l) => /^\s*(host|match)\b/i.test(l.text))) out.push(header ? { ...header } : { ...here, text: 'Host *' });
  });
  return out;
}

/** Parses lines with the `ssh-config` package and maps each directive back to its file and line. */
function parseLines(lines: Line[], files: string[]): Parsed {
  let config: SSHConfig;
  try {
    config = SSHConfig.parse(lines.map((l) => l.text).join('\n'));
  } catch (err: unknown) {
    throw new InputError([{ file: files[files.length - 1], message: `ssh_config: ${(err as Error).message}` }]);
  }
  // The parser keeps no positions: its directives come in source order, one per non-comment line.
  const directives = lines.filter((l) => l.text.trim() && !l.text.trim().startsWith('#'));
  const origins = new Map<object, Line>();
  let next = 0;
  for (const node of config as unknown as { param?: string; value?: unknown; config?: { param?: string; value?: unknown }[] }[]) {
    if (!node.param) continue;
    origins.set(node, directives[next++]);
    for (const child of node.config ?? []) {
      if (!child.param) continue;
      origins.set(child, directives[next++]);
      // Canonicalisation looks names up in DNS: kubecheck does not (and the parser would run nslookup).
      if (child.param.toLowerCase() === 'canonicalizehostname') child.value = 'no';
    }
    if (node.param.toLowerCase() === 'canonicalizehostname') node.value = 'no';
  }
  return { config, origins };
}

/** The user's ~/.ssh/config and /etc/ssh/ssh_config, or only `file` (like ssh -F). Missing files are no config. */
export function loadSshConfig(file?: string): LoadedSshConfig {
  const warnings: string[] = [];
  // An -F file is a user configuration: its relative Includes are in ~/.ssh, as ssh has it.
  const candidates = file ? [{ path: tilde(file), base: join(home(), '.ssh') }] : [
    { path: join(home(), '.ssh', 'config'), base: join(home(), '.ssh') },
    { path: '/etc/ssh/ssh_config', base: '/etc/ssh' },
  ];
  const lines: Line[] = [];
  const files: string[] = [];
  if (file && !existsSync(tilde(file))) throw new InputError([{ file, message: 'cannot read the ssh_config: ENOENT' }]);
  for (const c of candidates) {
    if (!existsSync(c.path)) continue;
    files.push(show(c.path));
    lines.push(...expand(c.path, c.base, 0, [], warnings));
  }
  for (const at of lines) {
    const m = /^\s*(\w+)\s*(?:=\s*|\s+)(.*?)\s*$/.exec(at.text);
    if (!m) continue;
    const where = `${at.file}:${at.line}: `;
    if (m[1].toLowerCase() === 'match' && /\b(exec|canonical|final|localnetwork|tagged)\b/i.test(m[2])) {
      warnings.push(`${where}Match ${m[2]}: not evaluated by kubecheck (only Match all, host, originalhost, user and localuser are)`);
    } else if (m[1].toLowerCase() === 'canonicalizehostname' && /^(yes|always)$/i.test(m[2])) {
      warnings.push(`${where}CanonicalizeHostname ${m[2]}: not followed by kubecheck (names are used as written)`);
    }
  }
  const parsed = new Map<string, Parsed>();
  if (!lines.some((l) => l.when.length)) parsed.set('', parseLines(lines, files));
  return { files, lines, warnings, parsed };
}

/** The config as ssh reads it for this host: only the conditional Includes whose blocks match it. */
function parsedFor(loaded: LoadedSshConfig, host: string, user: string | undefined): Parsed {
  const shared = loaded.parsed.get('');
  if (shared) return shared;
  const headers = [...new Set(loaded.lines.flatMap((l) => l.when))];
  const active = new Set(headers.filter((h) => {
    const probe = SSHConfig.parse(`${h.text}\n  KcProbe yes`);
    return (probe.compute({ Host: host, ...(user !== undefined ? { User: user } : {}) }, { ignoreCase: true, matchExec: false }) as Record<string, unknown>).kcprobe !== undefined;
  }));
  const key = headers.map((h) => (active.has(h) ? '1' : '0')).join('');
  let p = loaded.parsed.get(key);
  if (!p) loaded.parsed.set(key, (p = parseLines(loaded.lines.filter((l) => l.when.every((h) => active.has(h))), loaded.files)));
  return p;
}

type Computed = Record<string, string | string[] | undefined>;

/** ssh's %-tokens and ~ in a path: %d home, %u local user, %h host name, %n the name given, %r remote user, %p port, %l/%L local host name, %i uid, %%. */
export function expandTokens(path: string, ctx: { host: string; user: string; port: number; original?: string }): string {
  const me = localUser();
  const local = hostname();
  const tokens: Record<string, string> = { '%': '%', d: home(), h: ctx.host, n: ctx.original ?? ctx.host, u: me.username, p: String(ctx.port), r: ctx.user, l: local, L: local.split('.')[0], i: String(me.uid) };
  return tilde(path.replace(/%([%dhnuprlLi])/g, (_, t: string) => tokens[t] ?? ''));
}

/**
 * What ssh_config says for `host` (the name given to ssh). `user` is the one set on the command line
 * (ssh -l / -o User), which `Match user` sees. Each value says which file and line set it.
 */
export function resolveSsh(loaded: LoadedSshConfig, host: string, user?: string): SshConfigValues {
  const warnings = [...loaded.warnings];
  const { config, origins } = parsedFor(loaded, host, user);
  const sections = [...(config as unknown as { param?: string; value?: unknown; config?: unknown[] }[])];
  const computeOn = (config: SSHConfig): Computed =>
    config.compute({ Host: host, ...(user !== undefined ? { User: user } : {}) }, { ignoreCase: true, matchExec: false }) as unknown as Computed;
  const values = new Map<SshKey, Sourced<string>[]>();
  if (!sections.length) return { values, warnings };
  const all = computeOn(config);
  /** The first section whose inclusion sets `key` (to this value): first value wins, so it is where it came from. */
  const origin = (key: string, value?: string): string => {
    let lo = 0;
    let hi = sections.length - 1;
    const has = (i: number) => {
      const sub = SSHConfig.parse('');
      sub.push(...(sections.slice(0, i + 1) as never[]));
      const got = computeOn(sub)[key];
      return value === undefined ? got !== undefined : Array.isArray(got) ? got.includes(value) : got === value;
    };
    if (!has(hi)) return 'ssh_config';
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (has(mid)) hi = mid;
      else lo = mid + 1;
    }
    const section = sections[lo];
    const child = (section.config as { param?: string }[] | undefined)?.find((c) => c.param?.toLowerCase() === key);
    const at = origins.get(child ?? section);
    return at ? `${at.file}:${at.line}` : 'ssh_config';
  };
  for (const key of SSH_KEYS) {
    if (key === 'user' && user !== undefined) continue;
    const v = all[key];
    if (v === undefined) continue;
    if (key === 'identityfile') {
      values.set(key, (Array.isArray(v) ? v : [v]).map((id) => ({ value: id, from: origin(key, id) })));
    } else {
      values.set(key, [{ value: Array.isArray(v) ? v.join(' ') : v, from: origin(key) }]);
    }
  }
  return { values, warnings };
}

/** kubecheck's host-key policy for an ssh StrictHostKeyChecking value (ask: no one to ask, so strict). */
export function hostKeyPolicyOf(value: string): 'strict' | 'accept-new' | 'off' {
  const v = value.toLowerCase();
  if (v === 'accept-new') return 'accept-new';
  if (v === 'no' || v === 'off') return 'off';
  return 'strict';
}
