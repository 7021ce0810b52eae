// Inventories: kubecheck's native YAML, Ansible inventories (files, directories, executables, with
// group_vars/host_vars, ansible.cfg and Vault) and --hosts. Each host's connection is resolved as ssh
// resolves it (resolve.ts), every value with where it came from. Validated once, at the edge: every
// problem with file and line; unknown keys are warnings.
import picomatch from 'picomatch';
import { InputError, readInputFile, type InputProblem } from '../core/errors.js';
import { localUser } from '../core/local-user.js';
import { compileSchema } from '../core/schema.js';
import type { Role } from '../core/types.js';
import { loadYaml, positionOf, schemaProblems, type LoadedYaml } from '../core/yaml-doc.js';
import { type HostKeyPolicy, parseEndpoint } from '../transports/ssh.js';
import { isAnsibleOnlySource, loadAnsibleInventory, type AnsibleHost } from './ansible.js';
import { ansibleBoolean, loadAnsibleConfig, SETTINGS, settingOf, type AnsibleConfig } from './ansible-config.js';
import { cliOptions, type Connection, resolveConnection, SshConfigs, sshArgsOptions, type SshOption, type SshRequest } from './resolve.js';
import { displayPath, expandTilde, type Sourced } from './sourced.js';
import { decryptVault, isVaulted, readVaultPassword } from './vault.js';

export interface JumpHost {
  host: string;
  port: number;
  user: string;
  identityFiles: string[];
  identitiesOnly: boolean;
  hostKeyPolicy: HostKeyPolicy;
  knownHostsFiles: string[];
}

/** The fields of a host whose source `kubecheck inventory` shows. */
export type HostField = 'host' | 'port' | 'user' | 'identityFiles' | 'identitiesOnly' | 'hostKeyPolicy' | 'knownHostsFiles' | 'proxyJump' | 'connectTimeout' | 'become' | 'roles';

export interface InventoryHost {
  name: string;
  /** The address connected to (after ssh_config HostName). */
  host: string;
  port: number;
  user: string;
  roles: Role[];
  /** Keys offered in turn, tokens expanded. */
  identityFiles: string[];
  identitiesOnly: boolean;
  hostKeyPolicy: HostKeyPolicy;
  knownHostsFiles: string[];
  /** The ProxyJump as written, and the hops it resolves to (nearest first). */
  proxyJump?: string;
  jumps: JumpHost[];
  /** Seconds, when the inventory or ssh_config sets one (else the run's --connect-timeout). */
  connectTimeout?: number;
  become?: boolean;
  /** `local` for Ansible's `ansible_connection: local`. */
  via: 'ssh' | 'local';
  groups: string[];
  /** Where each value came from: `hosts.yaml:4 (ansible_host)`, `~/.ssh/config:3`, `--user`, `default`. */
  sources: Partial<Record<HostField, string>>;
  /** What kubecheck did not follow for this host, said once here. */
  warnings: string[];
  /** An Ansible host's variables after Ansible's precedence (as `ansible-inventory --list` shows them). */
  vars?: Record<string, unknown>;
}

export interface Inventory {
  file: string;
  format: 'native' | 'ansible' | 'hosts';
  hosts: InventoryHost[];
  warnings: InputProblem[];
  /** The files read: inventories, group_vars/host_vars, ansible.cfg. */
  files: string[];
  sshConfigFiles: string[];
}

export interface LoadOptions {
  /** One ssh_config instead of ~/.ssh/config and /etc/ssh/ssh_config (like ssh -F). */
  sshConfig?: string;
  vaultPasswordFile?: string;
  /** Bound for an executable inventory (default 30 s). */
  inventoryTimeoutMs?: number;
  user?: string;
  identityFile?: string;
  hostKeyPolicy?: HostKeyPolicy;
  knownHosts?: string;
  connectTimeout?: number;
  role?: Role;
  env?: NodeJS.ProcessEnv;
}

/** kubespray's groups (and the common older names) mapped to kubecheck roles. */
export const GROUP_ROLES: Record<string, Role> = {
  kube_control_plane: 'control-plane',
  'kube-master': 'control-plane',
  kube_master: 'control-plane',
  masters: 'control-plane',
  control_plane: 'control-plane',
  kube_node: 'worker',
  'kube-node': 'worker',
  workers: 'worker',
  etcd: 'etcd',
};

const HOST_FIELDS = {
  name: { type: 'string', minLength: 1, pattern: '^[^\\s,]+$' },
  host: { type: 'string', minLength: 1 },
  port: { type: 'integer', minimum: 1, maximum: 65535 },
  user: { type: 'string', minLength: 1 },
  roles: { type: 'array', items: { enum: ['control-plane', 'worker', 'etcd'] } },
  identityFile: { type: 'string' },
  hostKeyPolicy: { enum: ['strict', 'accept-new', 'off'] },
  knownHostsFile: { type: 'string' },
  proxyJump: { type: 'string' },
  become: { type: 'boolean' },
};

export const NATIVE_SCHEMA = {
  type: 'object',
  required: ['nodes'],
  additionalProperties: false,
  properties: {
    defaults: { type: 'object', additionalProperties: false, properties: { ...HOST_FIELDS, name: undefined, host: undefined, roles: undefined } },
    nodes: {
      type: 'array',
      minItems: 1,
      items: { type: 'object', required: ['name', 'host'], additionalProperties: false, properties: HOST_FIELDS },
    },
  },
};

const validateNative = compileSchema(JSON.parse(JSON.stringify(NATIVE_SCHEMA)) as object);

const POLICY_OPTION = { strict: 'yes', 'accept-new': 'accept-new', off: 'no' } as const;

interface HostExtras {
  roles: Sourced<Role[]>;
  become?: Sourced<boolean>;
  via?: 'ssh' | 'local';
  groups?: string[];
  warnings?: string[];
  vars?: Record<string, unknown>;
}

/** A resolved connection as an inventory host, each field with its source. */
function hostOf(name: string, c: Connection, extras: HostExtras): InventoryHost {
  const jump = (j: Connection): JumpHost => ({
    host: j.address.value,
    port: j.port.value,
    user: j.user.value,
    identityFiles: j.identityFiles.map((f) => f.value),
    identitiesOnly: j.identitiesOnly.value,
    hostKeyPolicy: j.hostKeyPolicy.value,
    knownHostsFiles: j.knownHostsFiles.value,
  });
  const defaults = c.identityFiles.every((f) => f.from === 'default');
  return {
    name,
    host: c.address.value,
    port: c.port.value,
    user: c.user.value,
    roles: extras.roles.value,
    identityFiles: c.identityFiles.map((f) => f.value),
    identitiesOnly: c.identitiesOnly.value,
    hostKeyPolicy: c.hostKeyPolicy.value,
    knownHostsFiles: c.knownHostsFiles.value,
    ...(c.proxyJump ? { proxyJump: c.proxyJump.value } : {}),
    jumps: c.jumps.map(jump),
    ...(c.connectTimeout ? { connectTimeout: c.connectTimeout.value } : {}),
    ...(extras.become ? { become: extras.become.value } : {}),
    via: extras.via ?? 'ssh',
    groups: extras.groups ?? [],
    sources: {
      host: c.address.from,
      port: c.port.from,
      user: c.user.from,
      identityFiles: defaults ? 'default' : [...new Set(c.identityFiles.filter((f) => f.from !== 'default').map((f) => f.from))].join(', '),
      identitiesOnly: c.identitiesOnly.from,
      hostKeyPolicy: c.hostKeyPolicy.from,
      knownHostsFiles: c.knownHostsFiles.from,
      ...(c.proxyJump ? { proxyJump: c.proxyJump.from } : {}),
      ...(c.connectTimeout ? { connectTimeout: c.connectTimeout.from } : {}),
      ...(extras.become ? { become: extras.become.from } : {}),
      roles: extras.roles.from,
    },
    warnings: [...c.warnings, ...c.jumps.flatMap((j) => j.warnings), ...(extras.warnings ?? [])],
    ...(extras.vars ? { vars: extras.vars } : {}),
  };
}

function duplicateNames(names: { name: string; where: { file?: string; line?: number; column?: number } }[]): InputProblem[] {
  const seen = new Set<string>();
  const problems: InputProblem[] = [];
  for (const h of names) {
    if (seen.has(h.name)) problems.push({ ...h.where, message: `host name '${h.name}' is used twice` });
    seen.add(h.name);
  }
  return problems;
}

function timeoutOverride(options: LoadOptions): SshOption[] {
  return options.connectTimeout ? [{ key: 'connecttimeout', value: String(options.connectTimeout), from: '--connect-timeout' }] : [];
}

// ---- native ----

type NativeFields = { [K in keyof typeof HOST_FIELDS]?: unknown };

function parseNative(loaded: LoadedYaml, file: string, options: LoadOptions, configs: SshConfigs): Inventory {
  const problems: InputProblem[] = [];
  const warnings: InputProblem[] = [];
  if (!validateNative(loaded.value)) {
    for (const p of schemaProblems(validateNative.errors, loaded, file)) {
      if (p.message.startsWith('must NOT have additional properties')) {
        warnings.push({ ...p, severity: 'warning', message: p.message.replace('must NOT have additional properties', 'unknown key, ignored:') });
      } else problems.push(p);
    }
  }
  if (problems.length) throw new InputError(problems);
  const raw = loaded.value as { defaults?: NativeFields; nodes: (NativeFields & { name: string; host: string })[] };
  const dups = duplicateNames(raw.nodes.map((n, i) => ({ name: n.name, where: { file, ...positionOf(loaded, `/nodes/${i}/name`) } })));
  if (dups.length) throw new InputError(dups);
  const at = (pointer: string) => `${displayPath(file)}:${positionOf(loaded, pointer).line ?? 1}`;
  const cli = cliOptions(options);
  const hosts = raw.nodes.map((n, i) => {
    const field = (k: keyof typeof HOST_FIELDS): Sourced<unknown> | undefined =>
      n[k] !== undefined ? { value: n[k], from: at(`/nodes/${i}/${k}`) } : raw.defaults?.[k] !== undefined ? { value: raw.defaults[k], from: at(`/defaults/${k}`) } : undefined;
    const opt = (k: keyof typeof HOST_FIELDS, key: SshOption['key'], map: (v: unknown) => string = String): SshOption[] => {
      const f = field(k);
      return f ? [{ key, value: map(f.value), from: f.from }] : [];
    };
    const request: SshRequest = {
      destination: { value: n.host, from: at(`/nodes/${i}/host`) },
      options: [
        ...cli.overrides,
        ...timeoutOverride(options),
        ...opt('user', 'user'),
        ...opt('port', 'port'),
        ...opt('identityFile', 'identityfile'),
        ...opt('proxyJump', 'proxyjump'),
        ...opt('hostKeyPolicy', 'stricthostkeychecking', (v) => POLICY_OPTION[v as HostKeyPolicy]),
        ...opt('knownHostsFile', 'userknownhostsfile'),
        ...cli.defaults,
      ],
      ...(options.sshConfig ? { configFile: { value: options.sshConfig, from: '--ssh-config' } } : {}),
    };
    const become = field('become');
    const roles = n.roles as Role[] | undefined;
    return hostOf(n.name, resolveConnection(request, configs, { value: 'root', from: 'default' }), {
      roles: roles ? { value: roles, from: at(`/nodes/${i}/roles`) } : { value: [], from: 'default' },
      ...(become ? { become: become as Sourced<boolean> } : {}),
    });
  });
  return { file, format: 'native', hosts, warnings, files: [displayPath(file)], sshConfigFiles: configs.get(options.sshConfig).files };
}

// ---- Ansible ----

const DEFAULT_SSH_ARGS = '-C -o ControlMaster=auto -o ControlPersist=60s';
const SUPPORTED_CONNECTIONS = new Set(['ssh', 'smart', 'paramiko', 'paramiko_ssh']);

/** An Ansible host's connection, built the way Ansible's ssh plugin builds its ssh command line. */
function ansibleHost(h: AnsibleHost, cfg: AnsibleConfig, options: LoadOptions, configs: SshConfigs, vaultPassword: string | undefined, warnings: InputProblem[]): InventoryHost | undefined {
  const env = options.env ?? process.env;
  const hostWarnings: string[] = [];
  const render = (value: unknown, depth = 0): unknown => {
    if (typeof value !== 'string' || !value.includes('{{')) return value;
    // Only a plain `{{ var }}` is rendered (from the host's own variables); anything else needs Jinja.
    const out = value.replace(/\{\{\s*([A-Za-z_]\w*)\s*\}\}/g, (whole, name: string) => {
      const v = name === 'inventory_hostname' ? h.name : h.vars.get(name)?.value;
      return v === undefined || v === null || typeof v === 'object' || depth > 5 ? whole : String(render(v, depth + 1));
    });
    return out.includes('{{') ? undefined : out;
  };
  /** Ansible's rule for a plugin option set by several variables: the last one defined wins. */
  const variable = (names: string[]): Sourced<unknown> | undefined => {
    let found: Sourced<unknown> | undefined;
    for (const name of names) {
      const v = h.vars.get(name);
      if (v === undefined || v.value === null) continue;
      let value = v.value;
      if (isVaulted(value)) {
        if (vaultPassword === undefined) {
          warnings.push({ ...whereOf(v.from), severity: 'warning', message: `${h.name}: ${name} is encrypted with Ansible Vault and no --vault-password-file was given: it is left unset` });
          continue;
        }
        try {
          value = decryptVault(value.__ansible_vault, vaultPassword);
        } catch (err: unknown) {
          throw new InputError([{ ...whereOf(v.from), message: `${h.name}: cannot decrypt ${name}: ${(err as Error).message}` }]);
        }
      }
      const rendered = render(value);
      if (rendered === undefined) {
        warnings.push({ ...whereOf(v.from), severity: 'warning', message: `${h.name}: ${name} is a Jinja template kubecheck does not render (${String(value)}): it is left unset` });
        continue;
      }
      found = { value: rendered, from: `${v.from} (${name})` };
    }
    return found;
  };
  const setting = (s: (typeof SETTINGS)[keyof typeof SETTINGS]) => settingOf(cfg, s, env) as Sourced<string> | undefined;
  const one = (...candidates: (Sourced<unknown> | undefined)[]) => candidates.find((c) => c !== undefined);

  const connection = variable(['ansible_connection']);
  if (connection && !SUPPORTED_CONNECTIONS.has(String(connection.value)) && connection.value !== 'local') {
    warnings.push({ ...whereOf(connection.from), severity: 'warning', message: `${h.name}: ansible_connection ${String(connection.value)} is not SSH: the host is not checked` });
    return undefined;
  }
  const options_: SshOption[] = [...cliOptions(options).overrides];
  let configFile: Sourced<string> | undefined;
  const args = (s: Sourced<unknown> | undefined) => {
    if (!s) return;
    const parsed = sshArgsOptions(String(s.value), s.from);
    options_.push(...parsed.options);
    hostWarnings.push(...parsed.warnings);
    if (parsed.configFile) configFile = { value: expandTilde(parsed.configFile), from: s.from };
  };
  args(one(variable(['ansible_ssh_args']), setting(SETTINGS.sshArgs), { value: DEFAULT_SSH_ARGS, from: 'default (ssh_args)' }));
  const checking = one(variable(['ansible_host_key_checking', 'ansible_ssh_host_key_checking']), setting(SETTINGS.hostKeyChecking));
  if (checking && !ansibleBoolean(checking.value)) options_.push({ key: 'stricthostkeychecking', value: 'no', from: checking.from });
  const port = one(variable(['ansible_port', 'ansible_ssh_port']), setting(SETTINGS.remotePort));
  if (port) options_.push({ key: 'port', value: String(port.value), from: port.from });
  const key = one(variable(['ansible_private_key_file', 'ansible_ssh_private_key_file']), options.identityFile ? { value: options.identityFile, from: '--identity-file' } : undefined, setting(SETTINGS.privateKeyFile));
  if (key) options_.push({ key: 'identityfile', value: expandTilde(String(key.value)), from: key.from });
  const user = one(variable(['ansible_user', 'ansible_ssh_user']), options.user ? { value: options.user, from: '--user' } : undefined, setting(SETTINGS.remoteUser));
  if (user) options_.push({ key: 'user', value: String(user.value), from: user.from });
  const timeout = one(variable(['ansible_ssh_timeout']), options.connectTimeout ? { value: options.connectTimeout, from: '--connect-timeout' } : undefined, setting(SETTINGS.timeout), { value: 10, from: 'default (Ansible timeout)' });
  options_.push({ key: 'connecttimeout', value: String(timeout!.value), from: timeout!.from });
  args(one(variable(['ansible_ssh_common_args']), setting(SETTINGS.sshCommonArgs)));
  args(one(variable(['ansible_ssh_extra_args']), setting(SETTINGS.sshExtraArgs)));
  if (options.sshConfig && !configFile) configFile = { value: options.sshConfig, from: '--ssh-config' };

  const destination = variable(['ansible_host', 'ansible_ssh_host']);
  const request: SshRequest = {
    destination: destination ? { value: String(destination.value), from: destination.from } : { value: h.name, from: h.at },
    options: options_,
    ...(configFile ? { configFile } : {}),
  };
  const become = one(variable(['ansible_become']), setting(SETTINGS.become));
  for (const k of h.vars.keys()) {
    if (/^ansible_(ssh_)?pass(word)?$|^ansible_become_pass(word)?$/.test(k)) {
      hostWarnings.push(`${k} (${h.vars.get(k)!.from}) is not used: passwords come only from KUBECHECK_SSH_PASSWORD or --ask-pass`);
    }
  }
  const roleGroups = h.groups.filter((g) => GROUP_ROLES[g]);
  const c = resolveConnection(request, configs, { value: localUser().username, from: 'default (local user, as ssh)' });
  return hostOf(h.name, c, {
    roles: { value: [...new Set(roleGroups.map((g) => GROUP_ROLES[g]))], from: roleGroups.length ? `groups ${roleGroups.join(', ')}` : 'no kubespray group' },
    ...(become ? { become: { value: ansibleBoolean(become.value), from: become.from } } : {}),
    via: connection?.value === 'local' ? 'local' : 'ssh',
    groups: h.groups,
    warnings: hostWarnings,
    vars: Object.fromEntries([...h.vars].map(([k, v]) => [k, v.value])),
  });
}

function whereOf(from: string): { file?: string; line?: number } {
  const m = /^(.*?):(\d+)(?: \(|$)/.exec(from);
  return m ? { file: m[1], line: Number(m[2]) } : { file: from.replace(/ \(.*\)$/, '') };
}

async function loadAnsible(sources: string[], label: string, cfg: AnsibleConfig, options: LoadOptions, configs: SshConfigs): Promise<Inventory> {
  const env = options.env ?? process.env;
  const passwordFile = options.vaultPasswordFile ?? (settingOf(cfg, SETTINGS.vaultPasswordFile, env)?.value as string | undefined);
  const vaultPassword = passwordFile ? readVaultPassword(passwordFile) : undefined;
  const inv = await loadAnsibleInventory(sources, { scriptTimeoutMs: options.inventoryTimeoutMs ?? 30_000, ...(vaultPassword !== undefined ? { vaultPassword } : {}) });
  const warnings: InputProblem[] = [...inv.warnings, ...cfg.warnings.map((message) => ({ severity: 'warning' as const, message }))];
  const hosts = inv.hosts.map((h) => ansibleHost(h, cfg, options, configs, vaultPassword, warnings)).filter((h): h is InventoryHost => h !== undefined);
  return {
    file: label,
    format: 'ansible',
    hosts,
    warnings,
    files: [...inv.files, ...(cfg.file ? [displayPath(cfg.file)] : [])],
    sshConfigFiles: [],
  };
}

/** Whether a YAML file is kubecheck's own format (a `nodes:` list) rather than Ansible's. */
function nativeYaml(text: string, file: string): LoadedYaml | undefined {
  if (!/^nodes\s*:/m.test(text)) return undefined;
  const loaded = loadYaml(text, file);
  if (loaded.problems.length) throw new InputError(loaded.problems);
  const v = loaded.value;
  return v && typeof v === 'object' && !Array.isArray(v) && 'nodes' in v ? loaded : undefined;
}

/**
 * Reads an inventory: `path` as given to -i, or (none given) the `inventory` of ansible.cfg. A directory
 * or an executable is an Ansible inventory; a file is kubecheck's own YAML when it has `nodes:`, else Ansible's.
 */
export async function loadInventory(path: string | undefined, options: LoadOptions = {}): Promise<Inventory> {
  const configs = new SshConfigs(options.sshConfig);
  let inv: Inventory;
  if (path === undefined) {
    const cfg = loadAnsibleConfig(options.env ?? process.env);
    const sources = settingOf(cfg, SETTINGS.inventory, options.env ?? process.env) as Sourced<string[]> | undefined;
    if (!sources) throw new InputError([{ message: 'no hosts to check: use --local for this machine, -i INVENTORY or --hosts user@addr,…' }]);
    inv = await loadAnsible(sources.value, `${sources.value.map(displayPath).join(',')} (${sources.from})`, cfg, options, configs);
  } else if (isAnsibleOnlySource(path)) {
    inv = await loadAnsible([path], path, loadAnsibleConfig(options.env ?? process.env), options, configs);
  } else {
    const text = readInputFile(path, 'inventory');
    const native = nativeYaml(text, path);
    inv = native ? parseNative(native, path, options, configs) : await loadAnsible([path], path, loadAnsibleConfig(options.env ?? process.env), options, configs);
  }
  if (inv.hosts.length === 0) throw new InputError([{ file: inv.file, message: 'the inventory has no hosts' }]);
  inv.sshConfigFiles = [...new Set([...inv.sshConfigFiles, ...configs.get(options.sshConfig).files])];
  return inv;
}

/** `--hosts root@10.0.0.1,admin@10.0.0.2:2222,edge-1`: hosts named as given, resolved through ssh_config. */
export function hostsFromList(list: string, options: LoadOptions = {}): Inventory {
  const configs = new SshConfigs(options.sshConfig);
  const problems: InputProblem[] = [];
  const hosts: InventoryHost[] = [];
  const cli = cliOptions(options);
  for (const item of list.split(',').map((s) => s.trim()).filter(Boolean)) {
    try {
      const explicitUser = /^[^@]+@/.test(item);
      const e = parseEndpoint(item, { user: '', port: 0 });
      const request: SshRequest = {
        destination: { value: e.host, from: '--hosts' },
        options: [
          ...cli.overrides,
          ...timeoutOverride(options),
          ...(explicitUser ? [{ key: 'user' as const, value: e.user, from: '--hosts' }] : []),
          ...(e.port ? [{ key: 'port' as const, value: String(e.port), from: '--hosts' }] : []),
          ...cli.defaults,
        ],
        ...(options.sshConfig ? { configFile: { value: options.sshConfig, from: '--ssh-config' } } : {}),
      };
      hosts.push(hostOf(e.port && e.port !== 22 ? `${e.host}:${e.port}` : e.host, resolveConnection(request, configs, { value: 'root', from: 'default' }), {
        roles: options.role ? { value: [options.role], from: '--role' } : { value: [], from: 'default' },
      }));
    } catch (err: unknown) {
      if (err instanceof InputError) problems.push(...err.problems.map((p) => (p.file ? p : { ...p, message: `--hosts: ${p.message}` })));
      else problems.push({ message: `--hosts: ${(err as Error).message}` });
    }
  }
  if (problems.length) throw new InputError(problems);
  if (hosts.length === 0) throw new InputError([{ message: '--hosts: no hosts given' }]);
  return { file: '--hosts', format: 'hosts', hosts, warnings: [], files: [], sshConfigFiles: configs.get(options.sshConfig).files };
}

/** `--limit` by host name, address, role or glob; a limit that selects nothing is an input error. */
export function limitHosts(hosts: InventoryHost[], limit: string[]): InventoryHost[] {
  if (limit.length === 0) return hosts;
  const matchers = limit.map((l) => picomatch(l));
  const chosen = hosts.filter((h) => matchers.some((m, i) => m(h.name) || m(h.host) || h.roles.includes(limit[i] as Role) || h.groups.includes(limit[i])));
  if (chosen.length === 0) throw new InputError([{ message: `--limit ${limit.join(',')} selects no host (hosts: ${hosts.map((h) => h.name).join(', ')})` }]);
  return chosen;
}
