// Ansible inventories read as Ansible reads them (ansible-core 2.14's ini, yaml and script plugins, the
// host_group_vars vars plugin and the VariableManager's precedence), so a host gets the variables
// `ansible-inventory --list` shows for it, each with the file and line that set it:
//   inventory `all` vars < other groups' inventory vars < group_vars/all < group_vars/<group>
//   < the host's inventory vars < host_vars/<host>,
// groups ordered by (depth, ansible_group_priority, name), later sources over earlier ones.
// Sources: a file, an executable (run with --list, bounded), or a directory of them.
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, resolve as resolvePath } from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import { InputError, type InputProblem } from '../core/errors.js';
import { pythonLiteral } from './python-literal.js';
import { displayPath, shellSplit, type Sourced } from './sourced.js';
import { decryptVault, isVaulted, isVaultText } from './vault.js';

export type VarMap = Map<string, Sourced<unknown>>;

export interface AnsibleHost {
  name: string;
  /** Where the host was first declared (`hosts.ini:4`). */
  at: string;
  /** Every group it is in, ancestors included (not `all`), in Ansible's group order. */
  groups: string[];
  /** Its variables after Ansible's precedence, each with where it was set. */
  vars: VarMap;
}

export interface AnsibleInventory {
  sources: string[];
  /** The inventory and vars files read, in order. */
  files: string[];
  hosts: AnsibleHost[];
  warnings: InputProblem[];
}

export interface AnsibleOptions {
  vaultPassword?: string;
  /** Bound for an executable inventory's --list (and each --host). */
  scriptTimeoutMs: number;
}

interface Group {
  name: string;
  vars: VarMap;
  children: string[];
  parents: Set<string>;
  hosts: string[];
  priority: number;
}

interface Host {
  name: string;
  vars: VarMap;
  groups: Set<string>;
  at: string;
}

/** Ansible's INVENTORY_IGNORE_EXTS and the names it never reads as inventories in a directory. */
const IGNORED_IN_DIR = /^\.|^host_vars$|^group_vars$|^vars_plugins$|(\.pyc|\.pyo|\.swp|\.bak|~|\.rpm|\.md|\.txt|\.rst|\.orig|\.ini|\.cfg|\.retry)$/;
const VARS_EXTS = ['.yml', '.yaml', '.json'];

/** The inventory Ansible builds as it reads its sources (InventoryData). */
class InventoryData {
  readonly groups = new Map<string, Group>();
  readonly hosts = new Map<string, Host>();
  readonly problems: InputProblem[] = [];

  constructor() {
    this.group('all');
    this.child('all', 'ungrouped', '');
  }

  group(name: string): Group {
    let g = this.groups.get(name);
    if (!g) this.groups.set(name, (g = { name, vars: new Map(), children: [], parents: new Set(), hosts: [], priority: 1 }));
    return g;
  }

  host(name: string, group: string, at: string): Host {
    let h = this.hosts.get(name);
    if (!h) this.hosts.set(name, (h = { name, vars: new Map(), groups: new Set(), at }));
    const g = this.group(group);
    if (!g.hosts.includes(name)) g.hosts.push(name);
    h.groups.add(group);
    return h;
  }

  private descendants(name: string, seen = new Set<string>()): Set<string> {
    for (const c of this.groups.get(name)?.children ?? []) {
      if (!seen.has(c)) {
        seen.add(c);
        this.descendants(c, seen);
      }
    }
    return seen;
  }

  child(parent: string, child: string, at: string): void {
    const p = this.group(parent);
    const c = this.group(child);
    if (parent === child || this.descendants(child).has(parent)) {
      this.problems.push({ ...whereOf(at), message: `adding group '${child}' as a child of '${parent}' makes a loop` });
      return;
    }
    if (!p.children.includes(child)) p.children.push(child);
    c.parents.add(parent);
  }

  setVar(target: Group | Host, key: string, value: unknown, from: string): void {
    if ('priority' in target && key === 'ansible_group_priority') {
      target.priority = Number(value);
      return;
    }
    target.vars.set(key, { value, from });
  }

  /** Ansible's reconcile_inventory: orphan groups under `all`, hosts in no group in `ungrouped`. */
  reconcile(): void {
    for (const g of this.groups.values()) if (g.name !== 'all' && g.parents.size === 0) this.child('all', g.name, '');
    for (const h of this.hosts.values()) {
      const others = [...h.groups].filter((g) => g !== 'all' && g !== 'ungrouped');
      if (others.length) {
        h.groups.delete('ungrouped');
        const u = this.group('ungrouped');
        u.hosts = u.hosts.filter((n) => n !== h.name);
      } else if (!h.groups.has('ungrouped')) this.host(h.name, 'ungrouped', h.at);
    }
  }

  /** A group's depth: its longest path from `all` (Ansible raises it each time the group gains a deeper parent). */
  depths(): Map<string, number> {
    const depth = new Map<string, number>();
    const visit = (name: string, d: number) => {
      if ((depth.get(name) ?? -1) >= d) return;
      depth.set(name, d);
      for (const c of this.groups.get(name)?.children ?? []) visit(c, d + 1);
    };
    visit('all', 0);
    return depth;
  }

  ancestors(group: string, out = new Set<string>()): Set<string> {
    if (out.has(group)) return out;
    out.add(group);
    for (const p of this.groups.get(group)?.parents ?? []) this.ancestors(p, out);
    return out;
  }
}

function whereOf(at: string): { file?: string; line?: number } {
  const m = /^(.*):(\d+)$/.exec(at);
  return m ? { file: m[1], line: Number(m[2]) } : at ? { file: at } : {};
}

// ---- host patterns (Ansible's expand_hostname_range and parse_address) ----

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** node[1:3] → node1..node3; [01:10:2] keeps the width and steps; [a:c] is alphabetic; ranges nest. */
export function expandHostPattern(pattern: string): string[] {
  const open = pattern.indexOf('[');
  const close = pattern.indexOf(']', open);
  if (open < 0 || close < 0 || !/^[^\]]*:[^\]]*$/.test(pattern.slice(open + 1, close))) return [pattern];
  const head = pattern.slice(0, open);
  const tail = pattern.slice(close + 1);
  const bounds = pattern.slice(open + 1, close).split(':');
  if (bounds.length !== 2 && bounds.length !== 3) throw new Error('host range must be begin:end or begin:end:step');
  const beg = bounds[0] || '0';
  const end = bounds[1];
  const step = bounds.length === 3 ? Number(bounds[2]) : 1;
  if (!end) throw new Error('host range must specify end value');
  if (!Number.isInteger(step) || step < 1) throw new Error(`host range step must be a whole number, not '${bounds[2]}'`);
  let width = 0;
  if (beg.length > 1 && beg.startsWith('0')) {
    if (beg.length !== end.length) throw new Error('host range must specify equal-length begin and end formats');
    width = beg.length;
  }
  const seq: string[] = [];
  const ib = LETTERS.indexOf(beg);
  const ie = LETTERS.indexOf(end);
  if (beg.length === 1 && end.length === 1 && ib >= 0 && ie >= 0) {
    if (ib > ie) throw new Error('host range must have begin <= end');
    for (let i = ib; i <= ie; i += step) seq.push(LETTERS[i]);
  } else {
    if (!/^\d+$/.test(beg) || !/^\d+$/.test(end)) throw new Error(`host range bounds must be numbers or letters, not '${beg}:${end}'`);
    for (let i = Number(beg); i <= Number(end); i += step) seq.push(width ? String(i).padStart(width, '0') : String(i));
  }
  return seq.flatMap((s) => expandHostPattern(`${head}${s}${tail}`));
}

/** `name`, `name:port`, `[v6]:port` (a bare IPv6 address keeps its colons). */
function splitPort(pattern: string): { name: string; port?: number } {
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(pattern);
  if (v6) return { name: v6[1], port: Number(v6[2]) };
  const m = /^([^:]+|[^:]*\[[^\]]*:[^\]]*\][^:]*):(\d+)$/.exec(pattern);
  if (m) return { name: m[1], port: Number(m[2]) };
  return { name: pattern };
}

function hostsOf(pattern: string, at: string): { names: string[]; port?: number } {
  const { name, port } = splitPort(pattern);
  try {
    return { names: expandHostPattern(name), ...(port !== undefined ? { port } : {}) };
  } catch (err: unknown) {
    throw new InputError([{ ...whereOf(at), message: `host pattern '${pattern}': ${(err as Error).message}` }]);
  }
}

// ---- the ini plugin ----

function parseIni(data: InventoryData, text: string, file: string): void {
  const shown = displayPath(file);
  const pending = new Map<string, { line: number; state: 'vars' | 'children'; parents: string[] }>();
  let group = 'ungrouped';
  let state = 'hosts';
  const fail = (line: number, message: string): never => {
    throw new InputError([{ file, line, message }]);
  };
  const addPendingChildren = (name: string) => {
    const p = pending.get(name)!;
    pending.delete(name);
    for (const parent of p.parents) {
      data.child(parent, name, `${shown}:${p.line}`);
      if (pending.get(parent)?.state === 'children') addPendingChildren(parent);
    }
  };
  text.split(/\r?\n/).forEach((raw, i) => {
    const n = i + 1;
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) return;
    const section = /^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$/.exec(line);
    if (section) {
      group = section[1];
      state = section[2] ?? 'hosts';
      if (!['hosts', 'children', 'vars'].includes(state)) fail(n, `section [${group}:${state}] has an unknown type: ${state}`);
      if (!data.groups.has(group)) {
        if (state === 'vars' && !pending.has(group)) pending.set(group, { line: n, state: 'vars', parents: [] });
        data.group(group);
      }
      const p = pending.get(group);
      if (p && state !== 'vars') {
        if (p.state === 'children') addPendingChildren(group);
        else pending.delete(group);
      }
      return;
    }
    if (line.startsWith('[') && line.endsWith(']')) fail(n, `invalid section entry: '${line}' (no spaces or other characters are allowed in a section name)`);
    const at = `${shown}:${n}`;
    if (state === 'hosts') {
      let tokens: string[];
      try {
        tokens = shellSplit(line, true);
      } catch (err: unknown) {
        return fail(n, `cannot parse the host definition '${line}': ${(err as Error).message}`);
      }
      if (tokens[0].endsWith(':')) fail(n, `host pattern '${tokens[0]}' ends in ':', which is reserved for a port`);
      const { names, port } = hostsOf(tokens[0], at);
      const vars: [string, unknown][] = [];
      for (const t of tokens.slice(1)) {
        const eq = t.indexOf('=');
        if (eq < 0) fail(n, `expected key=value host variable assignment, got: ${t}`);
        vars.push([t.slice(0, eq), pythonLiteral(t.slice(eq + 1))]);
      }
      for (const name of names) {
        const h = data.host(name, group, at);
        if (port !== undefined) data.setVar(h, 'ansible_port', port, at);
        for (const [k, v] of vars) data.setVar(h, k, v, at);
      }
    } else if (state === 'vars') {
      const eq = line.indexOf('=');
      if (eq < 0) fail(n, `expected key=value, got: ${line}`);
      data.setVar(data.group(group), line.slice(0, eq).trim(), pythonLiteral(line.slice(eq + 1).trim()), at);
    } else {
      const m = /^([^:\]\s]+)\s*(?:#.*)?$/.exec(line);
      if (!m) return fail(n, `expected a group name, got: ${line}`);
      const child = m[1];
      if (!data.groups.has(child)) {
        const p = pending.get(child);
        if (p) p.parents.push(group);
        else pending.set(child, { line: n, state: 'children', parents: [group] });
      } else data.child(group, child, at);
    }
  });
  for (const [name, p] of pending) {
    if (p.state === 'vars') fail(p.line, `section [${name}:vars] is for a group that is not defined: ${name}`);
    fail(p.line, `section [${p.parents[p.parents.length - 1]}:children] includes a group that is not defined: ${name}`);
  }
}

// ---- YAML (the yaml plugin and vars files) ----

interface LoadedAnsibleYaml {
  doc: Document;
  lines: LineCounter;
  value: unknown;
}

/** YAML as Ansible reads it: YAML 1.1 (yes/no are booleans), `!vault` and `!unsafe` tags, duplicate keys last-wins. */
export function loadAnsibleYaml(text: string, file: string): LoadedAnsibleYaml {
  const lines = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: lines,
    version: '1.1',
    uniqueKeys: false,
    prettyErrors: true,
    customTags: [
      { tag: '!vault', resolve: (s: string) => ({ __ansible_vault: s }) },
      { tag: '!unsafe', resolve: (s: string) => s },
    ],
  });
  if (doc.errors.length) {
    throw new InputError(doc.errors.map((e) => ({ file, line: e.linePos?.[0].line, column: e.linePos?.[0].col, message: `YAML: ${e.message.split('\n')[0]}` })));
  }
  return { doc, lines, value: doc.toJS({ maxAliasCount: 10_000 }) };
}

const lineOf = (loaded: LoadedAnsibleYaml, node: unknown): number | undefined =>
  node && typeof node === 'object' && 'range' in node && Array.isArray((node as YamlNode).range) ? loaded.lines.linePos((node as YamlNode).range![0]).line : undefined;

/** The key nodes of a YAML mapping node, by key text. */
function keyNodes(node: unknown): Map<string, { key: YamlNode; value: unknown }> {
  const out = new Map<string, { key: YamlNode; value: unknown }>();
  if (!isMap(node)) return out;
  for (const pair of node.items) {
    const k = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    out.set(k, { key: pair.key as YamlNode, value: pair.value });
  }
  return out;
}

const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !isVaulted(v);

function parseYamlInventory(data: InventoryData, text: string, file: string, warnings: InputProblem[]): void {
  const loaded = loadAnsibleYaml(text, file);
  const shown = displayPath(file);
  const at = (node: unknown) => {
    const l = lineOf(loaded, node);
    return l ? `${shown}:${l}` : shown;
  };
  const top = loaded.value;
  if (!isMapping(top)) throw new InputError([{ file, line: 1, message: `a YAML inventory is a mapping of groups (all:, kube_node:, …), not ${top === null ? 'empty' : Array.isArray(top) ? 'a list' : typeof top}` }]);
  if ('plugin' in top) {
    throw new InputError([{ file, ...whereOf(at(keyNodes(loaded.doc.contents).get('plugin')?.key)), message: `this is the configuration of the Ansible inventory plugin '${String(top.plugin)}', which kubecheck cannot run: give it the output of \`ansible-inventory -i ${shown} --list\` as an executable inventory or a file` }]);
  }
  const parseGroup = (name: string, value: unknown, node: unknown): string => {
    if (value !== null && value !== undefined && !isMapping(value)) {
      warnings.push({ file, ...whereOf(at(node)), severity: 'warning', message: `group '${name}' is not a mapping (hosts, vars, children): skipped, as Ansible does` });
      return name;
    }
    data.group(name);
    if (!value) return name;
    const nodes = keyNodes(node);
    for (const section of ['vars', 'children', 'hosts']) {
      const v = value[section];
      if (v !== undefined && v !== null && !isMapping(v) && typeof v !== 'string') {
        throw new InputError([{ file, ...whereOf(at(nodes.get(section)?.key)), message: `'${section}' of group '${name}' must be a mapping` }]);
      }
    }
    for (const [key, v] of Object.entries(value)) {
      const entry = nodes.get(key);
      if (v === null || v === undefined) continue;
      const sub = typeof v === 'string' ? { [v]: null } : (v as Record<string, unknown>);
      const subNodes = keyNodes(entry?.value);
      if (key === 'vars') {
        for (const [k, val] of Object.entries(sub)) data.setVar(data.group(name), k, val, at(subNodes.get(k)?.key ?? entry?.key));
      } else if (key === 'children') {
        for (const [child, cv] of Object.entries(sub)) {
          parseGroup(child, cv, subNodes.get(child)?.value);
          data.child(name, child, at(subNodes.get(child)?.key));
        }
      } else if (key === 'hosts') {
        for (const [pattern, hv] of Object.entries(sub)) {
          const hostAt = at(subNodes.get(pattern)?.key ?? entry?.key);
          const { names, port } = hostsOf(pattern, hostAt);
          if (hv !== null && hv !== undefined && !isMapping(hv)) {
            throw new InputError([{ file, ...whereOf(hostAt), message: `the variables of host '${pattern}' must be a mapping` }]);
          }
          const varNodes = keyNodes(subNodes.get(pattern)?.value);
          for (const h of names) {
            const host = data.host(h, name, hostAt);
            if (port !== undefined) data.setVar(host, 'ansible_port', port, hostAt);
            for (const [k, val] of Object.entries((hv ?? {}) as Record<string, unknown>)) data.setVar(host, k, val, at(varNodes.get(k)?.key ?? subNodes.get(pattern)?.key));
          }
        }
      } else {
        warnings.push({ file, ...whereOf(at(entry?.key)), severity: 'warning', message: `unexpected key '${key}' in group '${name}' (only hosts, vars and children are read): skipped, as Ansible does` });
      }
    }
    return name;
  };
  const nodes = keyNodes(loaded.doc.contents);
  for (const [name, value] of Object.entries(top)) parseGroup(name, value, nodes.get(name)?.value);
}

// ---- executable inventories (the script plugin) ----

/** Runs an inventory script, bounded: on time-out its whole process group is killed (a script's children too). */
function runScript(file: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const shown = `${displayPath(file)} ${args.join(' ')}`;
    const child = spawn(resolvePath(file), args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, timeoutMs);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new InputError([{ file, message: `cannot run the inventory script (${shown}): ${e.message}` }]));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const tail = Buffer.concat(err).toString('utf8').trim().split('\n').slice(-3).join(' | ');
      if (timedOut) reject(new InputError([{ file, message: `the inventory script (${shown}) did not finish within ${Math.round(timeoutMs / 100) / 10} s and was stopped (--inventory-timeout)` }]));
      else if (code !== 0) reject(new InputError([{ file, message: `the inventory script (${shown}) ${signal ? `was killed by ${signal}` : `exited ${code}`}${tail ? `: ${tail}` : ''}` }]));
      else resolve(Buffer.concat(out).toString('utf8'));
    });
  });
}

function parseJsonOutput(text: string, file: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err: unknown) {
    const first = text.trim().split('\n')[0]?.slice(0, 80) ?? '';
    throw new InputError([{ file, message: `${what} did not print JSON (${(err as Error).message}); it printed: ${first ? `'${first}'` : 'nothing'}` }]);
  }
}

async function parseScript(data: InventoryData, file: string, options: AnsibleOptions): Promise<void> {
  const shown = `${displayPath(file)} --list`;
  // One bound for the whole inventory, --host calls included.
  const deadline = Date.now() + options.scriptTimeoutMs;
  const left = () => {
    const ms = deadline - Date.now();
    if (ms <= 0) throw new InputError([{ file, message: `the inventory script (${displayPath(file)}) did not answer for every host within ${options.scriptTimeoutMs / 1000} s (--inventory-timeout)` }]);
    return ms;
  };
  const out = parseJsonOutput(await runScript(file, ['--list'], left()), file, shown);
  if (!isMapping(out)) throw new InputError([{ file, message: `${shown} must print a JSON object of groups, not ${Array.isArray(out) ? 'a list' : typeof out}` }]);
  let meta: Record<string, unknown> | undefined;
  const bad = (message: string): never => {
    throw new InputError([{ file, message: `${shown}: ${message}` }]);
  };
  for (const [group, raw] of Object.entries(out)) {
    if (group === '_meta') {
      if (isMapping(raw) && isMapping(raw.hostvars)) meta = raw.hostvars;
      continue;
    }
    data.group(group);
    // A list is the group's hosts; a mapping without hosts/vars/children is one host's vars (Ansible's legacy form).
    const g = !isMapping(raw) ? { hosts: raw } : !['hosts', 'vars', 'children'].some((k) => k in raw) ? { hosts: [group], vars: raw } : raw;
    if (g.hosts !== undefined) {
      if (!Array.isArray(g.hosts)) bad(`the hosts of group '${group}' must be a list`);
      for (const h of g.hosts as unknown[]) data.host(String(h), group, shown);
    }
    if (g.vars !== undefined) {
      if (!isMapping(g.vars)) bad(`the vars of group '${group}' must be an object`);
      for (const [k, v] of Object.entries(g.vars as Record<string, unknown>)) data.setVar(data.group(group), k, v, shown);
    }
    if (isMapping(raw) && raw.children !== undefined) {
      if (!Array.isArray(raw.children)) bad(`the children of group '${group}' must be a list`);
      for (const c of raw.children as unknown[]) data.child(group, String(c), shown);
    }
  }
  for (const host of data.hosts.values()) {
    let vars: unknown = meta?.[host.name];
    let from = shown;
    if (meta === undefined) {
      from = `${displayPath(file)} --host ${host.name}`;
      vars = parseJsonOutput(await runScript(file, ['--host', host.name], left()), file, from);
    }
    if (vars === undefined || vars === null) continue;
    if (!isMapping(vars)) bad(`the variables of host '${host.name}' must be an object`);
    for (const [k, v] of Object.entries(vars as Record<string, unknown>)) data.setVar(host, k, v, from);
  }
}

// ---- sources ----

const isExecutable = (file: string) => {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** INI unless it reads as a YAML mapping (what Ansible's plugin order comes to for a file with no or another extension). */
function looksLikeIni(text: string, file: string): boolean {
  const ext = extname(file).toLowerCase();
  if (['.yml', '.yaml', '.json'].includes(ext)) return false;
  if (ext === '.ini') return true;
  const first = text.split('\n').find((l) => l.trim() && !/^\s*[#;]/.test(l)) ?? '';
  return /^\s*\[[^\]]*\]\s*(#.*)?$/.test(first) || !/^[\w.-]+\s*:(\s|$)/.test(first.trim()) && !/^\s*[{-]/.test(first);
}

async function readSource(data: InventoryData, path: string, options: AnsibleOptions, files: string[], warnings: InputProblem[], top: boolean): Promise<void> {
  let st;
  try {
    st = statSync(path);
  } catch (err: unknown) {
    throw new InputError([{ file: path, message: `cannot read the inventory: ${(err as NodeJS.ErrnoException).code ?? String(err)}` }]);
  }
  if (st.isDirectory()) {
    const ignored: string[] = [];
    for (const entry of readdirSync(path).sort()) {
      if (IGNORED_IN_DIR.test(entry)) {
        if (/\.(ini|cfg)$/.test(entry) && !entry.startsWith('.')) ignored.push(entry);
        continue;
      }
      await readSource(data, join(path, entry), options, files, warnings, false);
    }
    if (ignored.length) {
      warnings.push({ file: path, severity: 'warning', message: `not read, as Ansible does not read them in an inventory directory: ${ignored.join(', ')} (name the file with -i to use it)` });
    }
    return;
  }
  files.push(displayPath(path));
  if (isExecutable(path)) return parseScript(data, path, options);
  const text = readFileSync(path, 'utf8');
  if (isVaultText(text)) {
    if (options.vaultPassword === undefined) throw new InputError([{ file: path, message: 'the inventory is encrypted with Ansible Vault: give --vault-password-file' }]);
    return parseInline(data, vaultOpen(text, path, options.vaultPassword), path, warnings);
  }
  if (!top && !text.trim()) return;
  return parseInline(data, text, path, warnings);
}

function parseInline(data: InventoryData, text: string, file: string, warnings: InputProblem[]): void {
  if (looksLikeIni(text, file)) parseIni(data, text, file);
  else parseYamlInventory(data, text, file, warnings);
}

function vaultOpen(text: string, file: string, password: string): string {
  try {
    return decryptVault(text, password);
  } catch (err: unknown) {
    throw new InputError([{ file, message: `cannot decrypt the Ansible Vault: ${(err as Error).message}` }]);
  }
}

// ---- group_vars / host_vars (the host_group_vars vars plugin) ----

/** Ansible's find_vars_files: NAME (a file, or a directory read recursively), else NAME.yml, .yaml, .json: the first that exists. */
function varsFiles(dir: string, name: string): string[] {
  const walk = (d: string): string[] => readdirSync(d).sort().flatMap((e) => {
    if (e.startsWith('.') || e.endsWith('~')) return [];
    const full = join(d, e);
    const ext = extname(e);
    if (statSync(full).isDirectory()) return ext ? [] : walk(full);
    return !ext || VARS_EXTS.includes(ext) ? [full] : [];
  });
  for (const ext of ['', ...VARS_EXTS]) {
    const p = join(dir, name + ext);
    if (!existsSync(p)) continue;
    return statSync(p).isDirectory() ? walk(p) : [p];
  }
  return [];
}

class VarsFiles {
  private readonly cache = new Map<string, VarMap>();

  constructor(private readonly options: AnsibleOptions, private readonly files: string[], private readonly warnings: InputProblem[]) {}

  /** The variables of one vars file, each with its line; a vaulted file without a password is a warning and no variables. */
  read(file: string): VarMap {
    const cached = this.cache.get(file);
    if (cached) return cached;
    const vars: VarMap = new Map();
    this.cache.set(file, vars);
    this.files.push(displayPath(file));
    let text = readFileSync(file, 'utf8');
    if (isVaultText(text)) {
      if (this.options.vaultPassword === undefined) {
        this.warnings.push({ file, severity: 'warning', message: 'encrypted with Ansible Vault and no --vault-password-file was given: its variables are not read' });
        return vars;
      }
      text = vaultOpen(text, file, this.options.vaultPassword);
    }
    if (!text.trim()) return vars;
    const loaded = loadAnsibleYaml(text, file);
    if (loaded.value === null || loaded.value === undefined) return vars;
    if (!isMapping(loaded.value)) throw new InputError([{ file, line: 1, message: `a vars file is a mapping of variables, not ${Array.isArray(loaded.value) ? 'a list' : typeof loaded.value}` }]);
    const nodes = keyNodes(loaded.doc.contents);
    for (const [k, v] of Object.entries(loaded.value)) {
      const line = lineOf(loaded, nodes.get(k)?.key);
      vars.set(k, { value: v, from: `${displayPath(file)}${line ? `:${line}` : ''}` });
    }
    return vars;
  }

  of(dir: string, kind: 'group_vars' | 'host_vars', name: string): VarMap {
    const base = join(dir, kind);
    const out: VarMap = new Map();
    if (name.startsWith('/') || !existsSync(base) || !statSync(base).isDirectory()) return out;
    for (const f of varsFiles(base, name)) for (const [k, v] of this.read(f)) out.set(k, v);
    return out;
  }
}

// ---- the whole inventory ----

/** Reads Ansible inventory sources (files, executables, directories) into hosts with Ansible's variables. */
export async function loadAnsibleInventory(sources: string[], options: AnsibleOptions): Promise<AnsibleInventory> {
  const data = new InventoryData();
  const files: string[] = [];
  const warnings: InputProblem[] = [];
  for (const s of sources) await readSource(data, s, options, files, warnings, true);
  if (data.problems.length) throw new InputError(data.problems);
  data.reconcile();
  const depth = data.depths();
  const order = (a: Group, b: Group) => (depth.get(a.name) ?? 0) - (depth.get(b.name) ?? 0) || a.priority - b.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const vars = new VarsFiles(options, files, warnings);
  const baseDirs = sources.map((s) => (existsSync(s) && statSync(s).isDirectory() ? s : dirname(s)));
  const all = data.groups.get('all')!;
  const hosts: AnsibleHost[] = [];
  for (const h of data.hosts.values()) {
    const groups = [...new Set([...h.groups].flatMap((g) => [...data.ancestors(g)]))].filter((g) => g !== 'all').map((g) => data.groups.get(g)!).sort(order);
    const merged: VarMap = new Map();
    const add = (m: VarMap) => {
      for (const [k, v] of m) merged.set(k, v);
    };
    add(all.vars);
    for (const g of groups) add(g.vars);
    for (const d of baseDirs) add(vars.of(d, 'group_vars', 'all'));
    for (const d of baseDirs) for (const g of groups) add(vars.of(d, 'group_vars', g.name));
    add(h.vars);
    for (const d of baseDirs) add(vars.of(d, 'host_vars', h.name));
    hosts.push({ name: h.name, at: h.at, groups: groups.map((g) => g.name).filter((g) => g !== 'ungrouped'), vars: merged });
  }
  return { sources: sources.map(displayPath), files, hosts, warnings };
}

/** Whether a path is something Ansible reads as an inventory source of its own (a directory or an executable). */
export function isAnsibleOnlySource(path: string): boolean {
  try {
    return statSync(path).isDirectory() || isExecutable(path);
  } catch {
    return false;
  }
}
