// Non-root SSH users: the collector runs through `sudo -n`; a sudo that wants a password is a clear error.
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFleet, destroyFleet, type TestFleet } from '../../scripts/testhosts.js';
import type { RunResult } from '../../src/core/types.js';
import { kubecheck } from '../cluster/helpers.js';

const USER = 'kcheck-op';
const SUDOERS = `/etc/sudoers.d/${USER}`;
let fleet: TestFleet;
let inventory: string;

beforeAll(async () => {
  fleet = await createFleet(1);
  // The test hosts share this machine's users: a temporary operator account, removed afterwards (and
  // first, should an interrupted run have left it behind).
  rmSync(SUDOERS, { force: true });
  try {
    execFileSync('userdel', ['--remove', USER], { stdio: 'ignore' });
  } catch {
    // not there: the usual case
  }
  execFileSync('useradd', ['--create-home', '--shell', '/bin/sh', USER]);
  // A locked account ('!') may not log in at all with UsePAM off; '*' allows keys but no password.
  execFileSync('usermod', ['-p', '*', USER]);
  inventory = join(fleet.dir, 'sudo.yaml');
  writeFileSync(inventory, `defaults: {identityFile: ${fleet.key}, knownHostsFile: ${fleet.knownHosts}, user: ${USER}}\nnodes:\n  - {name: op1, host: ${fleet.hosts[0].ip}}\n`);
}, 60_000);

afterAll(async () => {
  rmSync(SUDOERS, { force: true });
  execFileSync('userdel', ['--remove', USER], { stdio: 'ignore' });
  await destroyFleet();
});

describe('a non-root user', () => {
  it('gets a clear error when sudo asks for a password', async () => {
    const out = await kubecheck('preflight', '-i', inventory, '-o', 'json', '--only', 'node.swap');
    expect(out.code).toBe(3);
    expect((JSON.parse(out.stdout) as RunResult).results[0].message).toBe(
      'host not reached: sudo on op1 asks for a password: allow the user to run sh without one (NOPASSWD in sudoers) or connect as root',
    );
  });
  it('runs the collector as root through sudo -n when allowed', async () => {
    writeFileSync(SUDOERS, `${USER} ALL=(root) NOPASSWD: /bin/sh, /usr/bin/sh\n`, { mode: 0o440 });
    const out = await kubecheck('preflight', '-i', inventory, '-o', 'json', '--only', 'node.ports');
    const result = (JSON.parse(out.stdout) as RunResult).results[0];
    // Only root sees which process holds a socket (sshd's here): the collector ran as root.
    expect(result).toMatchObject({ target: 'op1', status: 'pass' });
    expect(result.message).not.toContain('process names unknown');
    expect(out.code).toBe(0);
  });
});
