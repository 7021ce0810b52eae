// kubecheck resolves hosts to what the real tools say: every inventory in fixtures/inventories/ is read by
// Debian's real `ansible-inventory --list` (groups, variables) and by real `ansible`, whose ssh command
// line for each host is handed to the real `ssh -G` (where OpenSSH would connect: address, user, port,
// keys, jump host, host-key checking). Nothing is dialled: Ansible's ssh_executable is a recorder that
// runs `ssh -G` and exits.
import { execFile } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const FIXTURES = resolve('fixtures/inventories');
const BIN = resolve('bin/kubecheck.js');
const SSH_DEFAULT_KEYS = ['~/.ssh/id_rsa', '~/.ssh/id_ecdsa', '~/.ssh/id_ecdsa_sk', '~/.ssh/id_ed25519', '~/.ssh/id_ed25519_sk', '~/.ssh/id_xmss', '~/.ssh/id_dsa'];

interface Case {
  title: string;
  inventory: string | null;
  vaultPasswordFile?: string;
  /** One ssh_config for both (ssh -F / --ssh-config): OpenSSH reads ~/.ssh from the passwd home, not $HOME. */
  sshConfig?: string;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<Run> {
  return new Promise((res) => {
    execFile(cmd, args, { cwd: opts.cwd, env: opts.env, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      res({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0, stdout, stderr });
    });
  });
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

type SshG = Map<string, string[]>;

function parseSshG(text: string): SshG {
  const out: SshG = new Map();
  for (const line of text.split('\n')) {
    const m = /^(\S+) (.*)$/.exec(line);
    if (m) out.set(m[1], [...(out.get(m[1]) ?? []), m[2]]);
  }
  return out;
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

interface KcHost {
  name: string;
  address: string;
  port: number;
  user: string;
  identityFiles: string[];
  identitiesOnly: boolean;
  hostKeyPolicy: string;
  knownHostsFiles: string[];
  proxyJump?: string;
  jumps: { host: string; port: number; user: string }[];
  connectTimeout?: number;
  become: boolean;
  groups: string[];
  roles: string[];
  sources: Record<string, string>;
  vars?: Record<string, unknown>;
}

const policyOf = (v: string) => (v === 'false' ? 'off' : v === 'accept-new' ? 'accept-new' : 'strict');

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
        const one = (key: string) => g.get(key)?.[0];
        const keys = ['hostname', 'user', 'port', 'identityfile', 'identitiesonly', 'proxyjump', 'stricthostkeychecking', 'userknownhostsfile', 'connecttimeout'];
        const where = `${h}: ssh -G says ${JSON.stringify(Object.fromEntries(keys.map((x) => [x, g.get(x)])))}`;
        expect(k.address, where).toBe(one('hostname'));
        expect(k.user, where).toBe(one('user'));
        expect(k.port, where).toBe(Number(one('port')));
        const ids = g.get('identityfile') ?? [];
        if (JSON.stringify(ids) === JSON.stringify(SSH_DEFAULT_KEYS)) expect(k.sources.identityFiles, where).toBe('default');
        else {
          const expand = (p: string) => p.replace(/^~(?=\/)/, s.home).replace(/%r/g, k.user).replace(/%h/g, k.address).replace(/%p/g, String(k.port)).replace(/%%/g, '%');
          expect(k.identityFiles, where).toEqual(ids.map(expand));
        }
        expect(k.identitiesOnly, where).toBe(one('identitiesonly') === 'yes');
        expect(k.hostKeyPolicy, where).toBe(policyOf(one('stricthostkeychecking')!));
        expect(k.knownHostsFiles, where).toEqual(one('userknownhostsfile')!.split(' '));
        expect(k.connectTimeout ?? 'none', where).toBe(one('connecttimeout') === 'none' ? 'none' : Number(one('connecttimeout')));
        // ssh -G prints the ProxyJump normalised (user@[host]:port): compare the hops, not the spelling.
        const hopsOf = (spec: string | undefined) => (spec ?? '').split(',').filter(Boolean).map((x) => {
          const m = /^(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(x)!;
          return { user: m[1], host: m[2].replace(/^\[|\]$/g, ''), port: m[3] };
        });
        const hops = hopsOf(one('proxyjump'));
        expect(hopsOf(k.proxyJump), where).toEqual(hops);
        // Each hop as ssh itself reaches it for ProxyJump (ssh -l USER -p PORT HOP, under the same config).
        expect(k.jumps.length, where).toBeGreaterThanOrEqual(hops.length);
        const mine = k.jumps.slice(k.jumps.length - hops.length);
        for (const [i, m] of hops.entries()) {
          const spec = `${m.user ?? ''}@${m.host}:${m.port ?? ''}`;
          const hop = parseSshG((await run('ssh', ['-G', ...(c.sshConfig ? ['-F', join(s.dir, c.sshConfig)] : []), ...(m.user ? ['-l', m.user] : []), ...(m.port ? ['-p', m.port] : []), m.host], { cwd: s.dir, env: s.env })).stdout);
          expect(mine[i], `${h} hop ${spec}`).toMatchObject({ host: hop.get('hostname')![0], user: hop.get('user')![0], port: Number(hop.get('port')![0]) });
        }
        const become = ansible._meta.hostvars[h]?.ansible_become;
        if (become !== undefined) expect(k.become, where).toBe(become === true || /^(yes|true|1|y|on|t)$/i.test(String(become)));
      }
    });
  }
});
