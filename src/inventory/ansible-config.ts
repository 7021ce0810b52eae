// ansible.cfg as Ansible finds and reads it: ANSIBLE_CONFIG, ./ansible.cfg (not in a world-writable
// directory), ~/.ansible.cfg, /etc/ansible/ansible.cfg — the first that exists, and only that one; INI
// read as Python's configparser does (keys lower-cased, `key = value` or `key: value`, `;` inline
// comments); environment variables over the file; paths relative to the file's directory.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { InputError } from '../core/errors.js';
import { displayPath, type Sourced } from './sourced.js';

export interface AnsibleConfig {
  /** The ansible.cfg in use, if any. */
  file?: string;
  values: Map<string, { value: string; line: number }>;
  warnings: string[];
}

/** One of Ansible's settings: where it can be set, later entries winning (as Ansible's _loop_entries). */
export interface AnsibleSetting {
  ini: [section: string, key: string][];
  env: string[];
  type?: 'string' | 'path' | 'pathlist' | 'boolean' | 'integer';
}

/** The settings kubecheck follows, named and placed as in ansible-core's config (base.yml, the ssh plugin). */
export const SETTINGS = {
  inventory: { ini: [['defaults', 'inventory']], env: ['ANSIBLE_INVENTORY'], type: 'pathlist' },
  remoteUser: { ini: [['defaults', 'remote_user']], env: ['ANSIBLE_REMOTE_USER'] },
  remotePort: { ini: [['defaults', 'remote_port']], env: ['ANSIBLE_REMOTE_PORT'], type: 'integer' },
  privateKeyFile: { ini: [['defaults', 'private_key_file']], env: ['ANSIBLE_PRIVATE_KEY_FILE'], type: 'path' },
  hostKeyChecking: { ini: [['defaults', 'host_key_checking'], ['ssh_connection', 'host_key_checking']], env: ['ANSIBLE_HOST_KEY_CHECKING', 'ANSIBLE_SSH_HOST_KEY_CHECKING'], type: 'boolean' },
  sshArgs: { ini: [['ssh_connection', 'ssh_args']], env: ['ANSIBLE_SSH_ARGS'] },
  sshCommonArgs: { ini: [['ssh_connection', 'ssh_common_args']], env: ['ANSIBLE_SSH_COMMON_ARGS'] },
  sshExtraArgs: { ini: [['ssh_connection', 'ssh_extra_args']], env: ['ANSIBLE_SSH_EXTRA_ARGS'] },
  timeout: { ini: [['defaults', 'timeout'], ['ssh_connection', 'timeout']], env: ['ANSIBLE_TIMEOUT', 'ANSIBLE_SSH_TIMEOUT'], type: 'integer' },
  become: { ini: [['privilege_escalation', 'become']], env: ['ANSIBLE_BECOME'], type: 'boolean' },
  vaultPasswordFile: { ini: [['defaults', 'vault_password_file']], env: ['ANSIBLE_VAULT_PASSWORD_FILE'], type: 'path' },
} satisfies Record<string, AnsibleSetting>;

function candidates(env: NodeJS.ProcessEnv, warnings: string[]): string[] {
  const out: string[] = [];
  if (env.ANSIBLE_CONFIG !== undefined) {
    const p = resolve(expandPath(env.ANSIBLE_CONFIG, env));
    out.push(existsSync(p) && statSync(p).isDirectory() ? join(p, 'ansible.cfg') : p);
  }
  const cwd = process.cwd();
  const here = join(cwd, 'ansible.cfg');
  if (statSync(cwd).mode & 0o002) {
    if (existsSync(here)) warnings.push(`${here} is not read: the directory is world-writable (Ansible ignores it too)`);
  } else out.push(here);
  out.push(join(homedir(), '.ansible.cfg'), '/etc/ansible/ansible.cfg');
  return out;
}

/** $VAR, ${VAR} and a leading ~ expanded, as Ansible's unfrackpath does. */
export function expandPath(path: string, env: NodeJS.ProcessEnv = process.env): string {
  const vars = path.replace(/\$(\w+)|\$\{(\w+)\}/g, (whole, a: string | undefined, b: string | undefined) => env[(a ?? b)!] ?? whole);
  return vars === '~' ? homedir() : vars.startsWith('~/') ? join(homedir(), vars.slice(2)) : vars;
}

/** configparser's reading of an INI file (no interpolation, as Ansible reads it raw). */
export function parseConfigIni(text: string, file: string): Map<string, { value: string; line: number }> {
  const values = new Map<string, { value: string; line: number }>();
  let section: string | undefined;
  let last: string | undefined;
  text.split(/\r?\n/).forEach((raw, i) => {
    const n = i + 1;
    if (!raw.trim() || /^\s*[#;]/.test(raw)) return;
    if (/^\s/.test(raw) && last) {
      const prev = values.get(last)!;
      values.set(last, { value: `${prev.value}\n${raw.trim()}`, line: prev.line });
      return;
    }
    const header = /^\[([^\]]+)\]/.exec(raw);
    if (header) {
      section = header[1];
      last = undefined;
      return;
    }
    const kv = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(raw);
    if (!kv) throw new InputError([{ file, line: n, message: `not a 'key = value' line: ${raw.trim()}` }]);
    if (!section) throw new InputError([{ file, line: n, message: 'a setting before any [section] header' }]);
    const value = kv[2].replace(/\s;.*$/, '').trim();
    last = `${section}.${kv[1].trim().toLowerCase()}`;
    values.set(last, { value, line: n });
  });
  return values;
}

export function loadAnsibleConfig(env: NodeJS.ProcessEnv = process.env): AnsibleConfig {
  const warnings: string[] = [];
  for (const file of candidates(env, warnings)) {
    if (!existsSync(file) || statSync(file).isDirectory()) continue;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err: unknown) {
      throw new InputError([{ file, message: `cannot read the Ansible configuration: ${(err as NodeJS.ErrnoException).code ?? String(err)}` }]);
    }
    return { file, values: parseConfigIni(text, file), warnings };
  }
  return { values: new Map(), warnings };
}

const TRUE = new Set(['y', 'yes', 'on', '1', 'true', 't', '1.0']);

/** Ansible's boolean(value, strict=False): anything it does not know as true is false. */
export const ansibleBoolean = (v: unknown) => v === true || v === 1 || TRUE.has(String(v).toLowerCase());

/** A setting's value from the environment or ansible.cfg (env wins; among several names the last set wins). */
export function settingOf(cfg: AnsibleConfig, setting: AnsibleSetting, env: NodeJS.ProcessEnv = process.env): Sourced<string | string[]> | undefined {
  let found: { value: string; from: string; base?: string } | undefined;
  for (const name of setting.env) if (env[name] !== undefined) found = { value: env[name]!, from: `$${name}` };
  if (!found && cfg.file) {
    for (const [section, key] of setting.ini) {
      const v = cfg.values.get(`${section}.${key}`);
      if (v) found = { value: v.value, from: `${displayPath(cfg.file)}:${v.line} (${key})`, base: dirname(cfg.file) };
    }
  }
  if (!found) return undefined;
  const path = (p: string) => {
    const e = expandPath(p, env);
    return isAbsolute(e) ? e : resolve(found!.base ?? process.cwd(), e);
  };
  if (setting.type === 'path') return { value: path(found.value), from: found.from };
  if (setting.type === 'pathlist') return { value: found.value.split(',').map((s) => s.trim()).filter(Boolean).map(path), from: found.from };
  return { value: found.value, from: found.from };
}
