// kubecheck resolves hosts to what the real tools say: every inventory in fixtures/inventories/ is read by
// Debian's real `ansible-inventory --list` (groups, variables) and by real `ansible`, whose ssh command
// line for each host is handed to the real `ssh -G` (where OpenSSH would connect: address, user, port,
// keys, jump host, host-key checking). Nothing is dialled: Ansible's ssh_executable is a recorder that
// runs `ssh -G` and exits.
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expectSameAsSsh, type KcHost, parseSshG, run, type SshG } from './helpers.js';

const FIXTURES = resolve('fixtures/inventories');
const BIN = resolve('bin/kubecheck.js');

interface Case {
  title: string;
  inventory: string | null;
  vaultPasswordFile?: string;
  /** One ssh_config for both (ssh -F / --ssh-config): OpenSSH reads ~/.ssh from the passwd home, not $HOME. */
  sshConfig?: string;
}

const staged: string[] = [];
afterAll(() => {
  for (const d of staged) rmSync(d, { recursive: true, force: true });
});

/** A copy of the case in a private directory, with its own HOME (its ~/.ssh/config, keys, no ~/.ansible.cfg). */
function stage(name: string): { dir: string; home: string; env: NodeJS.ProcessEnv } {
  const dir = mkdtempSync(join(tmpdir(), `kc-inv-${name}-`));
  staged.push(dir);
  chmodSync(dir, 0o755);
  cpSync(join(FIXTURES, name), dir, { recursive: true });
  // An ssh_config's Include of a relative path is looked up in ~/.ssh: the fixtures name theirs by @CASE@.
  const ssh = join(dir, 'home', '.ssh');
  for (const f of existsSync(ssh) ? readdirSync(ssh, { recursive: true, encoding: 'utf8' }) : []) {
    const p = join(ssh, f);
    if (/config|\.conf$/.test(f) && statSync(p).isFile()) writeFileSync(p, readFileSync(p, 'utf8').replace(/@CASE@/g, dir));
  }
  const home = join(dir, 'home');
  mkdirSync(join(home, '.ssh'), { recursive: true });
  chmodSync(join(home, '.ssh'), 0o700);
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ANSIBLE_') && k !== 'SSH_AUTH_SOCK'));
  Object.assign(env, { HOME: home, ANSIBLE_NOCOLOR: '1', ANSIBLE_LOCAL_TEMP: join(dir, '.ansible-tmp'), ANSIBLE_PYTHON_INTERPRETER: 'auto_silent' });
  return { dir, home, env };
}

/** What `ssh -G` concludes for the ssh command line real Ansible builds for each host. */
async function ansibleSsh(c: Case, s: ReturnType<typeof stage>, hosts: string[]): Promise<Map<string, SshG>> {
  const rec = join(s.dir, '.rec');
  mkdirSync(join(rec, 'bin'), { recursive: true });
  mkdirSync(join(rec, 'out'), { recursive: true });
  const F = c.sshConfig ? `-F ${join(s.dir, c.sshConfig)} ` : '';
  writeFileSync(join(rec, 'rec.sh'), `#!/bin/sh\n# Ansible calls this as its ssh: record what OpenSSH would do, connect nowhere.\nssh -G ${F}"$@" > "$KC_REC_DIR/out/$(basename "$0")" 2>&1\nexit 255\n`, { mode: 0o755 });
  for (const h of hosts) symlinkSync(join(rec, 'rec.sh'), join(rec, 'bin', h));
  const args = ['all', ...(c.inventory !== null ? ['-i', c.inventory] : []), '-m', 'ping', '-o', '-e', `ansible_ssh_executable=${rec}/bin/{{ inventory_hostname }}`, ...(c.vaultPasswordFile ? ['--vault-password-file', c.vaultPasswordFile] : [])];
  const r = await run('ansible', args, { cwd: s.dir, env: { ...s.env, KC_REC_DIR: rec } });
  const out = new Map<string, SshG>();
  for (const h of hosts) {
    const f = join(rec, 'out', h);
    if (!existsSync(f)) throw new Error(`ansible did not run ssh for ${h}: ${r.stdout}\n${r.stderr}`);
    out.set(h, parseSshG(readFileSync(f, 'utf8')));
  }
  return out;
}

/** Hosts and their groups (ancestors included) as `ansible-inventory --list` shows them. */
function groupsOf(list: Record<string, { hosts?: string[]; children?: string[] }>): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const walk = (g: string, path: string[]) => {
    if (path.includes(g)) return;
    const node = list[g] ?? {};
    for (const h of node.hosts ?? []) {
      const set = out.get(h) ?? new Set<string>();
      for (const x of [...path, g]) if (x !== 'all' && x !== 'ungrouped') set.add(x);
      out.set(h, set);
    }
    for (const child of node.children ?? []) walk(child, [...path, g]);
  };
  walk('all', []);
  return out;
}

const cases = readdirSync(FIXTURES).filter((d) => existsSync(join(FIXTURES, d, 'case.json'))).sort();

describe('inventories resolve as ansible-inventory and ansible → ssh -G say', () => {
  it('the corpus has the layouts the issue names (at least 8)', () => {
    expect(cases.length).toBeGreaterThanOrEqual(8);
    expect(cases).toEqual(expect.arrayContaining(['kubespray', 'ini-children', 'nested-yaml', 'group-vars-forms', 'inventory-dir', 'ansible-cfg', 'dynamic', 'vault', 'ssh-config']));
  });

  for (const name of cases) {
    const c = JSON.parse(readFileSync(join(FIXTURES, name, 'case.json'), 'utf8')) as Case;
    it(`${name}: ${c.title}`, async () => {
      const s = stage(name);
      const vault = c.vaultPasswordFile ? ['--vault-password-file', c.vaultPasswordFile] : [];
      const sshConfig = c.sshConfig ? ['--ssh-config', c.sshConfig] : [];
      const list = await run('ansible-inventory', [...(c.inventory !== null ? ['-i', c.inventory] : []), '--list', ...vault], { cwd: s.dir, env: s.env });
      expect(list.code, list.stderr).toBe(0);
      const ansible = JSON.parse(list.stdout) as Record<string, { hosts?: string[]; children?: string[] }> & { _meta: { hostvars: Record<string, Record<string, unknown>> } };
      const groups = groupsOf(ansible);
      const kc = await run(process.execPath, [BIN, 'inventory', ...(c.inventory !== null ? ['-i', c.inventory] : []), '-o', 'json', '--vars', ...vault, ...sshConfig], { cwd: s.dir, env: s.env });
      expect(kc.code, kc.stderr).toBe(0);
      const hosts = (JSON.parse(kc.stdout) as { hosts: KcHost[] }).hosts;
      const byName = new Map(hosts.map((h) => [h.name, h]));

      // The same hosts, in the same groups, with the same variables.
      expect([...byName.keys()].sort()).toEqual([...groups.keys()].sort());
      for (const [h, gs] of groups) {
        expect(byName.get(h)!.groups.slice().sort(), `${h}: groups`).toEqual([...gs].sort());
        expect(byName.get(h)!.vars, `${h}: variables`).toEqual(ansible._meta.hostvars[h] ?? {});
      }

      // Where OpenSSH would connect, given the command line Ansible builds.
      const ssh = await ansibleSsh(c, s, [...groups.keys()]);
      for (const [h, g] of ssh) {
        const k = byName.get(h)!;
        await expectSameAsSsh(k, g, { home: s.home, cwd: s.dir, env: s.env, ...(c.sshConfig ? { sshConfig: join(s.dir, c.sshConfig) } : {}) });
        const become = ansible._meta.hostvars[h]?.ansible_become;
        if (become !== undefined) expect(k.become, `${h}: become`).toBe(become === true || /^(yes|true|1|y|on|t)$/i.test(String(become)));
      }
    });
  }
});
