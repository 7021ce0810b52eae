// Where a host's SSH connection goes, resolved as OpenSSH resolves `ssh [options] destination`: the
// options given on the command line (by the inventory, Ansible's ssh arguments or kubecheck's own
// flags) first, first value winning (IdentityFile accumulating); what they leave unset from ssh_config
// for the destination; then ssh's defaults. Jump hosts are resolved the same way, each for its own name.
import { InputError } from '../core/errors.js';
import { localUser as passwdUser } from '../core/local-user.js';
import type { HostKeyPolicy } from '../transports/ssh.js';
import { expandTokens, hostKeyPolicyOf, loadSshConfig, resolveSsh, SSH_KEYS, type LoadedSshConfig, type SshKey } from './ssh-config.js';
import { expandSshTilde, shellSplit, type Sourced } from './sourced.js';

/** One option as `ssh -o key=value` (or -l, -p, -i, -J) would set it, with where it came from. */
export interface SshOption {
  key: SshKey;
  value: string;
  from: string;
}

/** What is asked of ssh for a host before ssh_config: its destination, options and config file (-F). */
export interface SshRequest {
  destination: Sourced<string>;
  options: SshOption[];
  configFile?: Sourced<string>;
}

export interface Connection {
  address: Sourced<string>;
  port: Sourced<number>;
  user: Sourced<string>;
  /** The keys offered, in order, tokens and ~ expanded; `from: 'default'` for ssh's default keys. */
  identityFiles: Sourced<string>[];
  identitiesOnly: Sourced<boolean>;
  hostKeyPolicy: Sourced<HostKeyPolicy>;
  knownHostsFiles: Sourced<string[]>;
  connectTimeout?: Sourced<number>;
  proxyJump?: Sourced<string>;
  /** The jump hosts, nearest first, each resolved for its own name. */
  jumps: Connection[];
  /** The ssh_config files read for it. */
  sshConfigFiles: string[];
  warnings: string[];
}

/** ssh's default identities (those ssh2 can use), in ssh's order. */
export const DEFAULT_IDENTITIES = ['~/.ssh/id_rsa', '~/.ssh/id_ecdsa', '~/.ssh/id_ed25519'];
const DEFAULT_KNOWN_HOSTS = ['~/.ssh/known_hosts', '~/.ssh/known_hosts2'];

/** The ssh_config files of a run, each read once: the user's and the system's, or one file (-F / --ssh-config). */
export class SshConfigs {
  private readonly cache = new Map<string, LoadedSshConfig>();

  constructor(private readonly defaultFile?: string) {}

  get(file?: string): LoadedSshConfig {
    const key = file ?? this.defaultFile ?? '';
    let c = this.cache.get(key);
    if (!c) this.cache.set(key, (c = loadSshConfig(key || undefined)));
    return c;
  }
}

const FLAGS = new Set('46AaCfGgKkMNnqsTtVvXxYy');
const WITH_ARG = new Set('BbcDEeFIiJLlmOopQRSWw');
const LETTER_KEYS: Record<string, SshKey> = { i: 'identityfile', l: 'user', p: 'port', J: 'proxyjump' };

/**
 * The options in an ssh argument string (Ansible's ssh_args, ssh_common_args, ssh_extra_args), as ssh
 * reads them: -o Key=Value (or "Key Value"), -i, -l, -p, -J, -F. Other options do not change where the
 * connection goes and are passed over.
 */
export function sshArgsOptions(text: string, from: string): { options: SshOption[]; configFile?: string; warnings: string[] } {
  const options: SshOption[] = [];
  const warnings: string[] = [];
  let configFile: string | undefined;
  let words: string[];
  try {
    words = shellSplit(text);
  } catch (err: unknown) {
    return { options, warnings: [`${from}: cannot split '${text}': ${(err as Error).message}`] };
  }
  const unquote = (v: string) => v.trim().replace(/^"(.*)"$/s, '$1');
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (!w.startsWith('-') || w === '-') {
      warnings.push(`${from}: '${w}' is not an ssh option: passed over`);
      continue;
    }
    for (let j = 1; j < w.length; j++) {
      const c = w[j];
      if (FLAGS.has(c)) continue;
      if (!WITH_ARG.has(c)) {
        warnings.push(`${from}: unknown ssh option -${c}: passed over`);
        continue;
      }
      const arg = j + 1 < w.length ? w.slice(j + 1) : words[++i];
      if (arg === undefined) {
        warnings.push(`${from}: ssh option -${c} has no value`);
        break;
      }
      if (c === 'o') {
        const m = /^\s*([A-Za-z]+)\s*(?:=\s*|\s+)(.*)$/.exec(arg);
        const key = m?.[1].toLowerCase();
        if (m && (SSH_KEYS as readonly string[]).includes(key!)) options.push({ key: key as SshKey, value: unquote(m[2]), from });
      } else if (c === 'F') configFile = arg;
      else if (LETTER_KEYS[c]) options.push({ key: LETTER_KEYS[c], value: arg, from });
      break;
    }
  }
  return { options, ...(configFile !== undefined ? { configFile } : {}), warnings };
}

/** `[user@]host[:port]` of a ProxyJump hop (an IPv6 address in brackets). */
function parseHop(spec: string): { user?: string; host: string; port?: number } | undefined {
  const m = /^(?:ssh:\/\/)?(?:([^@\s]+)@)?(\[[^\]]+\]|[^:\s@]+)(?::(\d+))?$/.exec(spec.trim());
  if (!m) return undefined;
  return { ...(m[1] ? { user: m[1] } : {}), host: m[2].replace(/^\[|\]$/g, ''), ...(m[3] ? { port: Number(m[3]) } : {}) };
}

const localUser = (): Sourced<string> => ({ value: passwdUser().username, from: 'default (local user)' });

/** Resolves one destination as ssh would. `fallbackUser` is who to be when nothing names a user. */
export function resolveConnection(req: SshRequest, configs: SshConfigs, fallbackUser: Sourced<string> = localUser(), via: string[] = []): Connection {
  const first = new Map<SshKey, SshOption>();
  const identities: SshOption[] = [];
  for (const o of req.options) {
    if (o.key === 'identityfile') identities.push(o);
    else if (!first.has(o.key)) first.set(o.key, o);
  }
  const loaded = configs.get(req.configFile?.value);
  const cfg = resolveSsh(loaded, req.destination.value, first.get('user')?.value);
  const warnings = [...cfg.warnings];
  const pick = (key: SshKey): Sourced<string> | undefined => first.get(key) ?? cfg.values.get(key)?.[0];
  const destination = req.destination.value;

  const hn = pick('hostname');
  const address: Sourced<string> = hn
    ? { value: hn.value.replace(/%(%|h)/g, (_, t: string) => (t === '%' ? '%' : destination)), from: hn.from }
    : { value: destination.toLowerCase(), from: req.destination.from };
  const user = pick('user') ?? fallbackUser;
  const portText = pick('port');
  const port: Sourced<number> = portText ? { value: Number(portText.value), from: portText.from } : { value: 22, from: 'default' };
  if (!Number.isInteger(port.value) || port.value < 1 || port.value > 65535) {
    throw new InputError([{ message: `${destination}: port '${portText!.value}' (${portText!.from}) is not a port number` }]);
  }
  const ctx = { host: address.value, user: user.value, port: port.value, original: destination };
  const ids = [...identities, ...(cfg.values.get('identityfile') ?? [])];
  const seen = new Set<string>();
  const identityFiles = (ids.length ? ids : DEFAULT_IDENTITIES.map((value) => ({ value, from: 'default' })))
    .map((o) => ({ value: expandTokens(o.value, ctx), from: o.from }))
    .filter((o) => !seen.has(o.value) && seen.add(o.value));
  const only = pick('identitiesonly');
  const strict = pick('stricthostkeychecking');
  const known = pick('userknownhostsfile');
  const timeout = pick('connecttimeout');
  const jump = pick('proxyjump');
  const proxyCommand = pick('proxycommand');
  const conn: Connection = {
    address,
    port,
    user,
    identityFiles,
    identitiesOnly: only ? { value: /^yes$/i.test(only.value), from: only.from } : { value: false, from: 'default' },
    hostKeyPolicy: strict ? { value: hostKeyPolicyOf(strict.value), from: strict.from } : { value: 'strict', from: 'default' },
    knownHostsFiles: known
      ? { value: known.value.split(/\s+/).filter(Boolean).map((f) => expandTokens(f, ctx)), from: known.from }
      : { value: DEFAULT_KNOWN_HOSTS.map(expandSshTilde), from: 'default' },
    ...(timeout && /^\d+$/.test(timeout.value) ? { connectTimeout: { value: Number(timeout.value), from: timeout.from } } : {}),
    jumps: [],
    sshConfigFiles: loaded.files,
    warnings,
  };
  if (jump && !/^none$/i.test(jump.value)) {
    conn.proxyJump = jump;
    conn.jumps = resolveJumps(jump, req, conn, configs, [...via, destination]);
  } else if (proxyCommand && !/^none$/i.test(proxyCommand.value)) {
    warnings.push(`ProxyCommand ${proxyCommand.value} (${proxyCommand.from}) is not run by kubecheck, which connects to ${address.value}:${port.value} directly: use ProxyJump`);
  }
  return conn;
}

/**
 * A ProxyJump list, nearest hop first: ssh reaches the first hop as it would for `ssh HOP` (its own
 * ProxyJump included) and each later hop through the one before. A hop whose key and known_hosts are
 * ssh's defaults is also offered the target's (ssh would offer only the defaults; bastions mostly take
 * the same key).
 */
function resolveJumps(jump: Sourced<string>, req: SshRequest, target: Connection, configs: SshConfigs, via: string[]): Connection[] {
  if (via.length > 8) throw new InputError([{ message: `${via[0]}: ProxyJump nests more than 8 hosts deep (${via.join(' → ')}; ${jump.from})` }]);
  const overrides = req.options.filter((o) => o.from.startsWith('--'));
  const hops = jump.value.split(',').map((spec, i) => {
    const hop = parseHop(spec);
    if (!hop) throw new InputError([{ message: `${req.destination.value}: ProxyJump '${spec}' (${jump.from}) is not [user@]host[:port]` }]);
    if (via.includes(hop.host)) throw new InputError([{ message: `${via[0]}: jump host loop via ${hop.host} (${[...via, hop.host].join(' → ')}; ${jump.from})` }]);
    const options: SshOption[] = [
      ...overrides.filter((o) => o.key !== 'identityfile' && o.key !== 'user' && o.key !== 'port'),
      ...(hop.user ? [{ key: 'user' as const, value: hop.user, from: jump.from }] : []),
      ...(hop.port ? [{ key: 'port' as const, value: String(hop.port), from: jump.from }] : []),
      ...(i > 0 ? [{ key: 'proxyjump' as const, value: 'none', from: jump.from }] : []),
    ];
    const c = resolveConnection({ destination: { value: hop.host, from: jump.from }, options, ...(req.configFile ? { configFile: req.configFile } : {}) }, configs, localUser(), via);
    if (c.identityFiles.every((f) => f.from === 'default')) c.identityFiles.push(...target.identityFiles.filter((f) => f.from !== 'default' && !c.identityFiles.some((g) => g.value === f.value)));
    if (c.knownHostsFiles.from === 'default') c.knownHostsFiles = { value: [...new Set([...c.knownHostsFiles.value, ...target.knownHostsFiles.value])], from: c.knownHostsFiles.from };
    return c;
  });
  return [...hops[0].jumps, ...hops.map((h) => ({ ...h, jumps: [] }))];
}

/** The options kubecheck's own flags give: overrides go before the inventory's, defaults after. */
export function cliOptions(o: { hostKeyPolicy?: HostKeyPolicy; knownHosts?: string; user?: string; identityFile?: string }): { overrides: SshOption[]; defaults: SshOption[] } {
  const policy = { strict: 'yes', 'accept-new': 'accept-new', off: 'no' } as const;
  return {
    overrides: [
      ...(o.hostKeyPolicy ? [{ key: 'stricthostkeychecking' as const, value: policy[o.hostKeyPolicy], from: '--host-key-policy' }] : []),
      ...(o.knownHosts ? [{ key: 'userknownhostsfile' as const, value: o.knownHosts, from: '--known-hosts' }] : []),
    ],
    defaults: [
      ...(o.user ? [{ key: 'user' as const, value: o.user, from: '--user' }] : []),
      ...(o.identityFile ? [{ key: 'identityfile' as const, value: o.identityFile, from: '--identity-file' }] : []),
    ],
  };
}
