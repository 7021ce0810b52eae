// Inventories: kubecheck's native YAML, Ansible YAML and INI (kubespray groups → roles), and --hosts.
// Validated once, at the edge: every problem with file and line; unknown keys are warnings.
import { userInfo } from 'node:os';
import { Ajv } from 'ajv';
import picomatch from 'picomatch';
import { isMap, isScalar, type Node as YamlNode } from 'yaml';
import { InputError, readInputFile, type InputProblem } from '../core/errors.js';
import type { Role } from '../core/types.js';
import { loadYaml, positionOf, schemaProblems, type LoadedYaml } from '../core/yaml-doc.js';
import { parseEndpoint, type HostKeyPolicy } from '../transports/ssh.js';

export interface InventoryHost {
  name: string;
  host: string;
  port: number;
  user: string;
  roles: Role[];
  identityFile?: string;
  hostKeyPolicy: HostKeyPolicy;
  knownHostsFile?: string;
  proxyJump?: string;
  become?: boolean;
}

export interface Inventory {
  file: string;
  format: 'native' | 'ansible-yaml' | 'ansible-ini' | 'hosts';
  hosts: InventoryHost[];
  warnings: InputProblem[];
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

const NATIVE_SCHEMA = {
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

const ajv = new Ajv({ allErrors: true, strict: false });
const validateNative = ajv.compile(JSON.parse(JSON.stringify(NATIVE_SCHEMA)) as object);

type Fields = Partial<Omit<InventoryHost, 'roles'>> & { roles?: Role[] };

function finish(name: string, fields: Fields, defaultUser: string): InventoryHost {
  return {
    name,
    host: fields.host ?? name,
    port: fields.port ?? 22,
    user: fields.user ?? defaultUser,
    roles: fields.roles ?? [],
    hostKeyPolicy: fields.hostKeyPolicy ?? 'strict',
    ...(fields.identityFile ? { identityFile: fields.identityFile } : {}),
    ...(fields.knownHostsFile ? { knownHostsFile: fields.knownHostsFile } : {}),
    ...(fields.proxyJump ? { proxyJump: fields.proxyJump } : {}),
    ...(fields.become !== undefined ? { become: fields.become } : {}),
  };
}

function duplicateNames(hosts: { name: string; where: { line?: number; column?: number } }[], file: string): InputProblem[] {
  const seen = new Map<string, boolean>();
  const problems: InputProblem[] = [];
  for (const h of hosts) {
    if (seen.has(h.name)) problems.push({ file, ...h.where, message: `host name '${h.name}' is used twice` });
    seen.set(h.name, true);
  }
  return problems;
}

function parseNative(loaded: LoadedYaml, file: string): Inventory {
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
  const raw = loaded.value as { defaults?: Fields; nodes: (Fields & { name: string; host: string })[] };
  const clean = (f: Fields): Fields => Object.fromEntries(Object.entries(f).filter(([k]) => k in HOST_FIELDS)) as Fields;
  const defaults = clean(raw.defaults ?? {});
  const hosts = raw.nodes.map((n) => finish(n.name, { ...defaults, ...clean(n) }, 'root'));
  const dups = duplicateNames(raw.nodes.map((n, i) => ({ name: n.name, where: positionOf(loaded, `/nodes/${i}/name`) })), file);
  if (dups.length) throw new InputError(dups);
  return { file, format: 'native', hosts, warnings };
}

// ---- Ansible ----

interface AnsibleGroup {
  hosts: Map<string, Record<string, string | number | boolean>>;
  vars: Record<string, string | number | boolean>;
  children: string[];
}

const KNOWN_VARS = new Set([
  'ansible_host', 'ansible_ssh_host', 'ansible_port', 'ansible_ssh_port', 'ansible_user', 'ansible_ssh_user',
  'ansible_ssh_private_key_file', 'ansible_private_key_file', 'ansible_ssh_common_args', 'ansible_ssh_extra_args',
  'ansible_become', 'ansible_connection', 'ansible_ssh_pass', 'ansible_password', 'ansible_become_pass', 'ansible_become_password',
]);

function proxyJumpOf(args: string | undefined): string | undefined {
  if (!args) return undefined;
  return /-o\s*['"]?ProxyJump[= ]([^\s'"]+)/i.exec(args)?.[1] ?? /(?:^|\s)-J\s*([^\s'"]+)/.exec(args)?.[1];
}

const truthy = (v: unknown) => v === true || (typeof v === 'string' && /^(true|yes|1)$/i.test(v));

/** Flattens Ansible groups into hosts: vars from all → parent groups → child groups → the host itself. */
function ansibleHosts(groups: Map<string, AnsibleGroup>, file: string, where: (host: string) => { line?: number; column?: number }): Inventory {
  const warnings: InputProblem[] = [];
  // Ansible's precedence: group vars from the shallowest group to the deepest (ties by name), then the
  // host's own vars. Depth is the longest path from `all`.
  const depth = new Map<string, number>();
  const parents = new Map<string, Set<string>>();
  const setDepth = (group: string, d: number, path: string[]) => {
    if (path.includes(group)) return;
    if ((depth.get(group) ?? -1) >= d) return;
    depth.set(group, d);
    for (const child of groups.get(group)?.children ?? []) {
      parents.set(child, (parents.get(child) ?? new Set()).add(group));
      setDepth(child, d + 1, [...path, group]);
    }
  };
  setDepth('all', 0, []);
  for (const g of groups.keys()) if (!depth.has(g)) setDepth(g, 1, []);
  const ancestors = (group: string, seen = new Set<string>()): Set<string> => {
    if (seen.has(group)) return seen;
    seen.add(group);
    for (const p of parents.get(group) ?? []) ancestors(p, seen);
    return seen;
  };
  const order: string[] = [];
  const hostGroups = new Map<string, Set<string>>();
  const ownVars = new Map<string, Record<string, unknown>>();
  for (const [name, g] of groups) {
    for (const [host, own] of g.hosts) {
      if (!hostGroups.has(host)) order.push(host);
      hostGroups.set(host, new Set([...(hostGroups.get(host) ?? []), ...ancestors(name), 'all']));
      ownVars.set(host, { ...(ownVars.get(host) ?? {}), ...own });
    }
  }
  const hostVars = new Map<string, Record<string, unknown>>();
  for (const host of order) {
    const gs = [...hostGroups.get(host)!].sort((a, b) => (depth.get(a) ?? 0) - (depth.get(b) ?? 0) || a.localeCompare(b));
    hostVars.set(host, Object.assign({}, ...gs.map((g) => groups.get(g)?.vars ?? {}), ownVars.get(host)));
  }

  const me = userInfo().username;
  const hosts = order.map((name) => {
    const v = hostVars.get(name)!;
    const str = (k: string) => (v[k] === undefined || v[k] === null ? undefined : String(v[k]));
    for (const k of Object.keys(v)) {
      if (/^ansible_(ssh_)?pass(word)?$|^ansible_become_pass(word)?$/.test(k)) {
        warnings.push({ file, ...where(name), severity: 'warning', message: `${name}: ${k} is ignored; passwords come only from KUBECHECK_SSH_PASSWORD or --ask-pass` });
      }
    }
    const roles = [...new Set([...(hostGroups.get(name) ?? [])].map((g) => GROUP_ROLES[g]).filter((r): r is Role => !!r))];
    const port = str('ansible_port') ?? str('ansible_ssh_port');
    const become = str('ansible_become');
    const proxyJump = proxyJumpOf(str('ansible_ssh_common_args')) ?? proxyJumpOf(str('ansible_ssh_extra_args'));
    const key = str('ansible_ssh_private_key_file') ?? str('ansible_private_key_file');
    return finish(name, {
      host: str('ansible_host') ?? str('ansible_ssh_host') ?? name,
      user: str('ansible_user') ?? str('ansible_ssh_user') ?? me,
      roles,
      ...(port ? { port: Number(port) } : {}),
      ...(key ? { identityFile: key } : {}),
      ...(proxyJump ? { proxyJump } : {}),
      ...(become !== undefined ? { become: truthy(become) } : {}),
    }, me);
  });
  const bad = hosts.filter((h) => !Number.isInteger(h.port) || h.port < 1 || h.port > 65535);
  if (bad.length) throw new InputError(bad.map((h) => ({ file, ...where(h.name), message: `${h.name}: ansible_port is not a port number` })));
  return { file, format: 'ansible-yaml', hosts, warnings };
}

function scalarMapOf(node: unknown): Record<string, string | number | boolean> {
  if (!node || typeof node !== 'object') return {};
  return node as Record<string, string | number | boolean>;
}

function parseAnsibleYaml(loaded: LoadedYaml, file: string): Inventory {
  const groups = new Map<string, AnsibleGroup>();
  const problems: InputProblem[] = [];
  const walk = (name: string, value: unknown, pointer: string) => {
    if (value !== null && (typeof value !== 'object' || Array.isArray(value))) {
      problems.push({ file, ...positionOf(loaded, pointer), path: pointer, message: `group '${name}' must be a mapping (hosts, vars, children)` });
      return;
    }
    const g = (value ?? {}) as { hosts?: Record<string, unknown>; vars?: unknown; children?: Record<string, unknown> };
    const group: AnsibleGroup = groups.get(name) ?? { hosts: new Map(), vars: {}, children: [] };
    for (const key of Object.keys(g)) {
      if (!['hosts', 'vars', 'children'].includes(key)) {
        problems.push({ file, ...positionOf(loaded, `${pointer}/${key}`), path: `${pointer}/${key}`, message: `unknown key in group '${name}' (expected hosts, vars, children)`, severity: 'warning' });
      }
    }
    for (const [host, vars] of Object.entries(g.hosts ?? {})) group.hosts.set(host, scalarMapOf(vars));
    Object.assign(group.vars, scalarMapOf(g.vars));
    groups.set(name, group);
    for (const [child, childValue] of Object.entries(g.children ?? {})) {
      group.children.push(child);
      walk(child, childValue, `${pointer}/children/${child}`);
    }
  };
  for (const [name, value] of Object.entries(loaded.value as Record<string, unknown>)) walk(name, value, `/${name}`);
  const errors = problems.filter((p) => p.severity !== 'warning');
  if (errors.length) throw new InputError(errors);
  const hostPointer = new Map<string, string>();
  const findHost = (node: YamlNode | null | undefined, path: string) => {
    if (!isMap(node)) return;
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '';
      if (key === 'hosts' && isMap(pair.value)) {
        for (const h of pair.value.items) if (isScalar(h.key) && !hostPointer.has(String(h.key.value))) hostPointer.set(String(h.key.value), `${path}/hosts/${String(h.key.value)}`);
      } else if (isMap(pair.value)) findHost(pair.value, `${path}/${key}`);
    }
  };
  findHost(loaded.doc.contents as YamlNode, '');
  const inv = ansibleHosts(groups, file, (h) => positionOf(loaded, hostPointer.get(h) ?? '/'));
  return { ...inv, warnings: [...problems, ...inv.warnings] };
}

/** Expands Ansible host ranges: node[1:3] → node1..node3, web[01:02] keeps the padding. */
export function expandHostPattern(name: string): string[] {
  const m = /^(.*)\[(\d+):(\d+)\](.*)$/.exec(name);
  if (!m) return [name];
  const [, pre, from, to, post] = m;
  const width = from.length;
  const out: string[] = [];
  for (let i = Number(from); i <= Number(to); i++) out.push(...expandHostPattern(`${pre}${String(i).padStart(width, '0')}${post}`));
  return out;
}

/** key=value pairs of an INI host line (values may be quoted). */
function iniPairs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|'[^']*'|\S+)/g)) out[m[1]] = m[2].replace(/^["']|["']$/g, '');
  return out;
}

export function parseAnsibleIni(text: string, file: string): Inventory {
  const groups = new Map<string, AnsibleGroup>();
  const lineOf = new Map<string, number>();
  const problems: InputProblem[] = [];
  const group = (name: string) => {
    let g = groups.get(name);
    if (!g) groups.set(name, (g = { hosts: new Map(), vars: {}, children: [] }));
    return g;
  };
  let section = { group: 'ungrouped', kind: 'hosts' as 'hosts' | 'vars' | 'children' };
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/^\s+|\s+$/g, '');
    if (!line || line.startsWith('#') || line.startsWith(';')) return;
    const header = /^\[([^\]:]+)(?::(vars|children))?\]$/.exec(line);
    if (header) {
      section = { group: header[1], kind: (header[2] as 'vars' | 'children') ?? 'hosts' };
      group(section.group);
      return;
    }
    if (line.startsWith('[')) {
      problems.push({ file, line: i + 1, column: 1, message: `not a valid section header: ${line}` });
      return;
    }
    const g = group(section.group);
    if (section.kind === 'vars') {
      const eq = line.indexOf('=');
      if (eq < 1) problems.push({ file, line: i + 1, column: 1, message: `expected key=value in [${section.group}:vars]` });
      else g.vars[line.slice(0, eq).trim()] = line.slice(eq + 1).trim().replace(/^["']|["']$/g, '');
      return;
    }
    if (section.kind === 'children') {
      g.children.push(line.split(/\s+/)[0]);
      return;
    }
    const [name, ...rest] = line.split(/\s+/);
    const vars = iniPairs(rest.join(' '));
    for (const host of expandHostPattern(name)) {
      g.hosts.set(host, { ...(g.hosts.get(host) ?? {}), ...vars });
      if (!lineOf.has(host)) lineOf.set(host, i + 1);
    }
  });
  if (problems.length) throw new InputError(problems);
  if (!groups.has('all')) groups.set('all', { hosts: new Map(), vars: {}, children: [] });
  const all = groups.get('all')!;
  for (const name of groups.keys()) if (name !== 'all' && !all.children.includes(name)) all.children.push(name);
  const inv = ansibleHosts(groups, file, (h) => ({ line: lineOf.get(h) }));
  return { ...inv, format: 'ansible-ini' };
}

/** Reads an inventory in any accepted format, detected from its content. */
export function parseInventory(text: string, file: string): Inventory {
  const firstLine = text.split('\n').find((l) => l.trim() && !/^\s*[#;]/.test(l)) ?? '';
  if (/^\s*\[[^\]]+\]\s*$/.test(firstLine) || /^[^\s:=]+(\s+\w+=\S+)+\s*$/.test(firstLine) || /\.ini$/i.test(file)) {
    return parseAnsibleIni(text, file);
  }
  const loaded = loadYaml(text, file);
  if (loaded.problems.length) throw new InputError(loaded.problems);
  const value = loaded.value;
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new InputError([{ file, line: 1, message: 'an inventory is a mapping: `nodes:` (native) or Ansible groups (`all:`)' }]);
  }
  if ('nodes' in value) return parseNative(loaded, file);
  return parseAnsibleYaml(loaded, file);
}

export function loadInventory(file: string): Inventory {
  const inv = parseInventory(readInputFile(file, 'inventory'), file);
  if (inv.hosts.length === 0) throw new InputError([{ file, message: 'the inventory has no hosts' }]);
  return inv;
}

/** `--hosts root@10.0.0.1,admin@10.0.0.2:2222`: hosts named by their address. */
export function hostsFromList(list: string, defaults: { user?: string; role?: Role } = {}): Inventory {
  const problems: InputProblem[] = [];
  const hosts: InventoryHost[] = [];
  for (const item of list.split(',').map((s) => s.trim()).filter(Boolean)) {
    try {
      const e = parseEndpoint(item, { user: defaults.user ?? 'root', port: 22 });
      hosts.push(finish(e.port === 22 ? e.host : `${e.host}:${e.port}`, { ...e, roles: defaults.role ? [defaults.role] : [] }, e.user));
    } catch (err: unknown) {
      problems.push({ message: `--hosts: ${(err as Error).message}` });
    }
  }
  if (problems.length) throw new InputError(problems);
  if (hosts.length === 0) throw new InputError([{ message: '--hosts: no hosts given' }]);
  return { file: '--hosts', format: 'hosts', hosts, warnings: [] };
}

/** `--limit` by host name, address, role or glob; a limit that selects nothing is an input error. */
export function limitHosts(hosts: InventoryHost[], limit: string[]): InventoryHost[] {
  if (limit.length === 0) return hosts;
  const matchers = limit.map((l) => picomatch(l));
  const chosen = hosts.filter((h) => matchers.some((m, i) => m(h.name) || m(h.host) || h.roles.includes(limit[i] as Role)));
  if (chosen.length === 0) throw new InputError([{ message: `--limit ${limit.join(',')} selects no host (hosts: ${hosts.map((h) => h.name).join(', ')})` }]);
  return chosen;
}
