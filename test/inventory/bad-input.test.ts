// Bad inventories get a clear message naming the file and line, exit 2, within their time bound; a
// vaulted value without its password is a warning and the host is still there.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from './helpers.js';

const BIN = resolve('bin/kubecheck.js');
const dir = mkdtempSync(join(tmpdir(), 'kc-badinv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = { ...process.env, NO_COLOR: '1' };

function write(path: string, text: string, mode = 0o644): string {
  const p = join(dir, path);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, text, { mode });
  return p;
}

const kubecheck = (...args: string[]) => run(process.execPath, [BIN, ...args], { cwd: dir, env, timeoutMs: 30_000 });

describe('bad inventories', () => {
  it('a malformed group_vars file: exit 2 naming the file and line, nothing connected', async () => {
    write('broken/hosts.yml', 'kube_node:\n  hosts:\n    n1: {ansible_host: 192.0.2.1}\n');
    write('broken/group_vars/kube_node.yml', 'ansible_user: ops\nansible_port: [2201\nother: 1\n');
    for (const cmd of [['inventory'], ['preflight', '--connect-timeout', '1']]) {
      const r = await kubecheck(...cmd, '-i', join(dir, 'broken'));
      expect(r.code, r.stderr).toBe(2);
      // The line the YAML parser stops at: the unclosed [ on line 2 is found at line 3.
      expect(r.stderr).toMatch(/broken\/group_vars\/kube_node\.yml:[23]:\d+: YAML: /);
    }
  });

  it('a vars file that is not a mapping, an INI child group never defined, a bad ansible.cfg line: each named with its line', async () => {
    write('list/hosts.yml', 'kube_node:\n  hosts:\n    n1:\n');
    write('list/host_vars/n1.yml', '- ansible_user: ops\n');
    let r = await kubecheck('inventory', '-i', join(dir, 'list/hosts.yml'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/list\/host_vars\/n1\.yml:1: a vars file is a mapping of variables, not a list/);

    write('undef.ini', '[k8s_cluster:children]\nkube_node\nkube_missing\n\n[kube_node]\nn1\n');
    r = await kubecheck('inventory', '-i', join(dir, 'undef.ini'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/undef\.ini:3: section \[k8s_cluster:children\] includes a group that is not defined: kube_missing/);

    write('cfg/ansible.cfg', '[defaults]\ninventory = hosts.ini\nthis is not a setting\n');
    write('cfg/hosts.ini', 'n1\n');
    r = await run(process.execPath, [BIN, 'inventory'], { cwd: join(dir, 'cfg'), env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cfg\/ansible\.cfg:3: not a 'key = value' line: this is not a setting/);
  });

  it('a vaulted value without --vault-password-file is a warning naming file and variable; the host is still resolved', async () => {
    const v = join(dir, 'vault');
    cpSync(resolve('fixtures/inventories/vault'), v, { recursive: true });
    const r = await run(process.execPath, [BIN, 'inventory', '-i', 'hosts.yml', '-o', 'json'], { cwd: v, env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/group_vars\/all\/vault\.yml:1: warning: v1: ansible_user is encrypted with Ansible Vault and no --vault-password-file was given: it is left unset/);
    expect(r.stderr).toMatch(/group_vars\/all\/secrets\.yml: warning: encrypted with Ansible Vault and no --vault-password-file was given: its variables are not read/);
    expect(r.stderr).not.toMatch(/s3cret|vaulteduser/);
    const hosts = (JSON.parse(r.stdout) as { hosts: { name: string; user: string; port: number; address: string }[] }).hosts;
    expect(hosts.map((h) => [h.name, h.address, h.user, h.port])).toEqual([['v1', '192.0.2.81', 'root', 22], ['v2', '192.0.2.82', 'plain', 22]]);

    write('vault/wrong.txt', 'not the password\n');
    const wrong = await run(process.execPath, [BIN, 'inventory', '-i', 'hosts.yml', '--vault-password-file', 'wrong.txt'], { cwd: v, env });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/secrets\.yml: cannot decrypt the Ansible Vault: the vault password does not open it/);
    expect(wrong.stderr).not.toMatch(/not the password/);
  });

  it('a dynamic inventory that hangs is stopped at its bound, its children too; one that prints garbage or fails says so', async () => {
    const pidFile = join(dir, 'child.pid');
    write('hang.sh', `#!/bin/sh\nsleep 300 &\necho $! > ${pidFile}\nwait\n`, 0o755);
    const started = Date.now();
    let r = await kubecheck('inventory', '-i', join(dir, 'hang.sh'), '--inventory-timeout', '2');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/hang\.sh: the inventory script \(.*hang\.sh --list\) did not finish within 2 s and was stopped \(--inventory-timeout\)/);
    const child = Number(readFileSync(pidFile, 'utf8'));
    expect(existsSync(`/proc/${child}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${child}/status`, 'utf8'))).toBe(false);

    write('garbage.sh', '#!/bin/sh\necho "Traceback (most recent call last):"\n', 0o755);
    r = await kubecheck('inventory', '-i', join(dir, 'garbage.sh'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/garbage\.sh --list did not print JSON \(.*\); it printed: 'Traceback \(most recent call last\):'/);

    write('fails.sh', '#!/bin/sh\necho "no credentials for the cloud API" >&2\nexit 3\n', 0o755);
    r = await kubecheck('inventory', '-i', join(dir, 'fails.sh'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/fails\.sh --list\) exited 3: no credentials for the cloud API/);

    write('shape.sh', '#!/bin/sh\necho \'{"kube_node": {"hosts": "n1"}}\'\n', 0o755);
    r = await kubecheck('inventory', '-i', join(dir, 'shape.sh'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/shape\.sh --list: the hosts of group 'kube_node' must be a list/);
  });

  it('an inventory plugin configuration, a missing ssh_config, a jump host loop: clear, exit 2', async () => {
    write('aws_ec2.yml', 'plugin: amazon.aws.aws_ec2\nregions: [eu-west-1]\n');
    let r = await kubecheck('inventory', '-i', join(dir, 'aws_ec2.yml'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/aws_ec2\.yml:1: this is the configuration of the Ansible inventory plugin 'amazon\.aws\.aws_ec2', which kubecheck cannot run/);

    r = await kubecheck('inventory', '--hosts', 'n1', '--ssh-config', join(dir, 'nope.conf'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/nope\.conf: cannot read the ssh_config/);

    write('loop.conf', 'Host a\n    ProxyJump b\nHost b\n    ProxyJump a\n');
    r = await kubecheck('inventory', '--hosts', 'a', '--ssh-config', join(dir, 'loop.conf'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/a: jump host loop via a \(a → b → a; .*loop\.conf:4\)/);
  });
});
