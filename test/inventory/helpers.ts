// What the inventory tests share: running the real tools, reading `ssh -G`, and comparing a host as
// `kubecheck inventory -o json` resolves it with where OpenSSH would connect.
import { execFile } from 'node:child_process';
import { expect } from 'vitest';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a real tool; never throws (the exit code says how it went). */
export function run(cmd: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<Run> {
  return new Promise((res) => {
    execFile(cmd, args, { cwd: opts.cwd, env: opts.env, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      res({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0, stdout, stderr });
    });
  });
}

export type SshG = Map<string, string[]>;

export function parseSshG(text: string): SshG {
  const out: SshG = new Map();
  for (const line of text.split('\n')) {
    const m = /^(\S+) (.*)$/.exec(line);
    if (m) out.set(m[1], [...(out.get(m[1]) ?? []), m[2]]);
  }
  return out;
}

export interface KcHost {
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

const SSH_DEFAULT_KEYS = ['~/.ssh/id_rsa', '~/.ssh/id_ecdsa', '~/.ssh/id_ecdsa_sk', '~/.ssh/id_ed25519', '~/.ssh/id_ed25519_sk', '~/.ssh/id_xmss', '~/.ssh/id_dsa'];
const policyOf = (v: string) => (v === 'false' ? 'off' : v === 'accept-new' ? 'accept-new' : 'strict');

/** `k` (kubecheck's resolution of a host) is where `ssh -G` (`g`) says OpenSSH would connect, and each jump host too. */
export async function expectSameAsSsh(k: KcHost, g: SshG, s: { home: string; cwd: string; env: NodeJS.ProcessEnv; sshConfig?: string }): Promise<void> {
  const h = k.name;
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
  expect(hopsOf(k.proxyJump), where).toEqual(hopsOf(one('proxyjump')));
  await expectHops(k, k.jumps, one('proxyjump'), s);
}

/** ssh -G prints a ProxyJump normalised (user@[host]:port): compare the hops, not the spelling. */
function hopsOf(spec: string | undefined): { user?: string; host: string; port?: string }[] {
  return (spec ?? '').split(',').filter(Boolean).map((x) => {
    const m = /^(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(x)!;
    return { ...(m[1] ? { user: m[1] } : {}), host: m[2].replace(/^\[|\]$/g, ''), ...(m[3] ? { port: m[3] } : {}) };
  });
}

/**
 * The hops kubecheck will go through (`jumps`, nearest first) are those ssh would: each hop of `spec` as
 * `ssh -G -l USER -p PORT HOP` resolves it, and before the first hop the hops of its own ProxyJump.
 */
async function expectHops(k: KcHost, jumps: KcHost['jumps'], spec: string | undefined, s: { cwd: string; env: NodeJS.ProcessEnv; sshConfig?: string }): Promise<void> {
  const hops = hopsOf(spec);
  if (!hops.length) {
    expect(jumps, `${k.name}: no more jump hosts`).toEqual([]);
    return;
  }
  expect(jumps.length, `${k.name}: jump hosts for ${spec}`).toBeGreaterThanOrEqual(hops.length);
  const mine = jumps.slice(jumps.length - hops.length);
  for (const [i, m] of hops.entries()) {
    const hop = parseSshG((await run('ssh', ['-G', ...(s.sshConfig ? ['-F', s.sshConfig] : []), ...(m.user ? ['-l', m.user] : []), ...(m.port ? ['-p', m.port] : []), m.host], s)).stdout);
    expect(mine[i], `${k.name}: hop ${m.host} of ${spec}`).toMatchObject({ host: hop.get('hostname')![0], user: hop.get('user')![0], port: Number(hop.get('port')![0]) });
    // Only the first hop's own ProxyJump is followed (ssh passes -J for the later ones).
    if (i === 0) await expectHops(k, jumps.slice(0, jumps.length - hops.length), hop.get('proxyjump')?.[0], s);
  }
}
