// Regression gates on real test hosts: a saved baseline, one more thing broken, then fixed again.
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFleet, destroyFleet, setSwaps, setSysctl, type TestFleet, writeInventory } from '../../scripts/testhosts.js';
import type { RunResult } from '../../src/core/types.js';
import { ROOT, kubecheckWith } from '../helpers.js';

const BIN = join(ROOT, 'bin/kubecheck.js');
let fleet: TestFleet;
let inventory: string;

// node.system warns on every host of this machine (its kernel runs cgroup v1): not what the gate is about.
const kubecheck = (...args: string[]) => kubecheckWith({ timeoutMs: 60_000 }, ...args, ...(args[0] === 'preflight' ? ['--skip', 'node.system'] : []));

const file = (name: string) => join(fleet.dir, name);

beforeAll(async () => {
  // Hosts laid out for kubeadm (real kubelet, containerd, chronyd, settings files): the only failures are the tests' own.
  fleet = await createFleet(4, { preinstalled: true });
  inventory = file('gate.yaml');
  writeFileSync(inventory, [`defaults: {identityFile: ${fleet.key}, knownHostsFile: ${fleet.knownHosts}}`, 'nodes:',
    ...fleet.hosts.map((h) => `  - {name: ${h.name}, host: ${h.ip}, roles: [worker]}`)].join('\n') + '\n');
  setSwaps(fleet.hosts[1], [{ device: '/swapfile', sizeKiB: 1048572 }]); // a failure everyone already knows about
}, 60_000);

afterAll(async () => {
  await destroyFleet();
});

describe('baseline gate', () => {
  it('fails only on the new failure, then passes once it is fixed though the known failure remains', async () => {
    const first = await kubecheck('preflight', '-i', inventory, '--limit', 'h1,h2,h3', '--save-baseline', file('baseline.json'), '-q');
    expect(first.code).toBe(1); // h2's swap fails, without a gate
    await setSysctl(fleet.hosts[2], 'net.ipv4.ip_forward', '0');

    const broken = await kubecheck('preflight', '-i', inventory, '--limit', 'h1,h2,h3', '--baseline', file('baseline.json'), '--json', file('broken.json'), '--junit', file('broken.xml'));
    expect(broken.code).toBe(1);
    const report = JSON.parse(readFileSync(file('broken.json'), 'utf8')) as RunResult;
    expect(report.baseline?.changes.filter((c) => c.kind === 'new').map((c) => `${c.check} ${c.target}`)).toEqual(['node.sysctl h3']);
    expect(report.baseline?.changes.filter((c) => c.kind === 'known').map((c) => `${c.check} ${c.target}`)).toEqual(['node.swap h2']);
    expect(broken.stdout).toContain('NEW   node.sysctl on h3: net.ipv4.ip_forward is 0, must be 1 (was pass)');
    expect(broken.stdout).toContain('gate: FAILED');
    execFileSync('xmllint', ['--noout', '--schema', join(ROOT, 'fixtures/schemas/junit-jenkins.xsd'), file('broken.xml')], { stdio: 'pipe' });
    const xml = readFileSync(file('broken.xml'), 'utf8');
    expect(xml).toMatch(/<testsuite name="h2"[^>]*failures="0"/); // known: skipped, not failed
    expect(xml).toMatch(/<testsuite name="h3"[^>]*failures="1"/);

    await setSysctl(fleet.hosts[2], 'net.ipv4.ip_forward', '1');
    const fixed = await kubecheck('preflight', '-i', inventory, '--limit', 'h1,h2,h3', '--baseline', file('baseline.json'), '-o', 'json');
    expect(fixed.code).toBe(0);
    const after = JSON.parse(fixed.stdout) as RunResult;
    expect(after.results.find((r) => r.check === 'node.swap' && r.target === 'h2')?.status).toBe('fail');
    expect(after.baseline?.regressed).toBe(false);
  }, 120_000);

  it('diff reports new, fixed and unchanged results with hosts added and removed', async () => {
    // Old: h1-h3 with h2 swapping. New: h2-h4, h2 fixed, h4 swapping.
    await kubecheck('preflight', '-i', inventory, '--limit', 'h1,h2,h3', '--json', file('old.json'), '-q');
    setSwaps(fleet.hosts[1], []);
    setSwaps(fleet.hosts[3], [{ device: '/dev/sdb2', sizeKiB: 2097148 }]);
    await kubecheck('preflight', '-i', inventory, '--limit', 'h2,h3,h4', '--json', file('new.json'), '-q');

    const text = await kubecheck('diff', file('old.json'), file('new.json'));
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('New failures (1):\n  ✗ node.swap on h4: swap is on: /dev/sdb2 (2.0 GiB) (not in the baseline)');
    expect(text.stdout).toContain('Fixed (1):\n  ✓ node.swap on h2: no active swap and none in /etc/fstab (fail → pass)');
    expect(text.stdout).toContain('Targets added: h4');
    expect(text.stdout).toContain('Targets removed: h1');

    const json = JSON.parse((await kubecheck('diff', file('old.json'), file('new.json'), '-o', 'json')).stdout);
    const kinds = (kind: string) => json.changes.filter((c: { kind: string }) => c.kind === kind).map((c: { check: string; target: string }) => `${c.check} ${c.target}`);
    expect(kinds('new')).toEqual(['node.swap h4']);
    expect(kinds('fixed')).toEqual(['node.swap h2']);
    expect(kinds('removed')).toContain('node.swap h1');
    expect(kinds('unchanged')).toContain('node.sysctl h3');
    expect(kinds('unchanged')).not.toContain('node.swap h2');

    await kubecheck('diff', file('old.json'), file('new.json'), '--junit', file('diff.xml'), '-o', 'json');
    execFileSync('xmllint', ['--noout', '--schema', join(ROOT, 'fixtures/schemas/junit-jenkins.xsd'), file('diff.xml')], { stdio: 'pipe' });
    expect(readFileSync(file('diff.xml'), 'utf8')).toMatch(/<testsuite name="h4"[^>]*failures="1"/);

    const same = await kubecheck('diff', file('new.json'), file('new.json'));
    expect(same.code).toBe(0);
    expect(same.stdout).toContain('no regression');
  }, 120_000);

  it('rejects a baseline that is not a kubecheck report with exit 2', async () => {
    writeFileSync(file('junk.json'), '{"results": 3}');
    const out = await kubecheck('preflight', '-i', inventory, '--baseline', file('junk.json'));
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('not a kubecheck JSON report');
  });
});
