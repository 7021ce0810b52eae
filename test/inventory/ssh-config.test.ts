// `kubecheck --hosts NAME --ssh-config FILE` goes where the real `ssh -F FILE -G NAME` says OpenSSH would:
// every ssh_config in fixtures/ssh-config/ names the hosts to try on its first line (`# hosts: …`,
// `user@host:port` for a name given with a user or port on the command line).
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expectSameAsSsh, type KcHost, parseSshG, run } from './helpers.js';

const FIXTURES = resolve('fixtures/ssh-config');
const BIN = resolve('bin/kubecheck.js');
const dir = mkdtempSync(join(tmpdir(), 'kc-sshconfig-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
cpSync(FIXTURES, dir, { recursive: true });
for (const f of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
  const p = join(dir, f);
  if (statSync(p).isFile()) writeFileSync(p, readFileSync(p, 'utf8').replace(/@DIR@/g, dir));
}
const env = { ...process.env };
delete env.SSH_AUTH_SOCK;

describe('ssh_config resolves as ssh -G says', () => {
  // kubecheck's --hosts default user is root, ssh's is the local user: the same only when run as root.
  it('runs as root, where kubecheck\'s and ssh\'s default user agree', () => {
    expect(userInfo().username).toBe('root');
  });

  for (const file of readdirSync(FIXTURES).filter((f) => f.endsWith('.conf')).sort()) {
    const text = readFileSync(join(FIXTURES, file), 'utf8');
    const names = /^# hosts: (.*)$/m.exec(text)![1].trim().split(/\s+/);
    const about = /^# (?!hosts:)(.*)$/m.exec(text)?.[1] ?? '';
    it(`${file}: ${about}`, async () => {
      const config = join(dir, file);
      const kc = await run(process.execPath, [BIN, 'inventory', '--hosts', names.join(','), '--ssh-config', config, '-o', 'json'], { cwd: dir, env });
      expect(kc.code, kc.stderr).toBe(0);
      const hosts = (JSON.parse(kc.stdout) as { hosts: KcHost[] }).hosts;
      expect(hosts).toHaveLength(names.length);
      for (const [i, name] of names.entries()) {
        const m = /^(?:([^@]+)@)?([^:]+)(?::(\d+))?$/.exec(name)!;
        const g = parseSshG((await run('ssh', ['-F', config, '-G', ...(m[1] ? ['-l', m[1]] : []), ...(m[3] ? ['-p', m[3]] : []), m[2]], { cwd: dir, env })).stdout);
        expect(g.get('hostname'), `ssh -G ${name}`).toBeDefined();
        await expectSameAsSsh(hosts[i], g, { home: userInfo().homedir, cwd: dir, env, sshConfig: config });
      }
    });
  }

  it('says what it does not follow: Match exec is reported, not run, and not silently ignored', async () => {
    const config = join(dir, 'unsupported.conf.txt');
    writeFileSync(config, `Match exec "touch ${join(dir, 'ran')}"\n    User nope\nHost canon\n    CanonicalizeHostname yes\n    CanonicalDomains example.test\nHost proxied\n    ProxyCommand nc -X connect -x proxy:3128 %h %p\n`);
    const kc = await run(process.execPath, [BIN, 'inventory', '--hosts', 'canon,proxied', '--ssh-config', config, '-o', 'json'], { cwd: dir, env });
    expect(kc.code, kc.stderr).toBe(0);
    const hosts = (JSON.parse(kc.stdout) as { hosts: (KcHost & { warnings: string[] })[] }).hosts;
    expect(hosts[0].warnings.join('\n')).toMatch(/unsupported\.conf\.txt:1: Match exec "touch .*": not evaluated by kubecheck/);
    expect(hosts[0].warnings.join('\n')).toMatch(/unsupported\.conf\.txt:4: CanonicalizeHostname yes: not followed by kubecheck/);
    expect(hosts[0].user).toBe('root');
    expect(hosts[1].warnings.join('\n')).toMatch(/ProxyCommand nc -X connect -x proxy:3128 %h %p \(.*unsupported\.conf\.txt:7\) is not run by kubecheck, which connects to proxied:22 directly: use ProxyJump/);
    expect(readdirSync(dir)).not.toContain('ran');
  });
});
