// The flannel/CNI path on real test hosts (real bridges, VXLAN links and files), and `kubecheck fix`.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addBridge, createFleet, destroyFleet, injectFault, makeFlannelNode, setFile, type TestFleet, type TestHost, writeInventory } from '../../scripts/testhosts.js';
import type { CheckResult, RunResult } from '../../src/core/types.js';
import { kubecheck } from '../cluster/helpers.js';

let fleet: TestFleet;
let inventory: string;
const H = (n: number): TestHost => fleet.hosts[n - 1];

/** What a host's network and CNI state look like, read directly (not through kubecheck). */
function hostState(h: TestHost): string {
  const links = execFileSync('ip', ['-n', h.netns, '-br', 'addr', 'show'], { encoding: 'utf8' }).split('\n').filter((l) => /^(cni0|flannel\.1)/.test(l)).join('\n');
  const cniState = readdirSync(join(h.dir, 'var-lib-cni'), { recursive: true }).sort().join(',');
  return `${links}\n${cniState}`;
}

beforeAll(async () => {
  fleet = await createFleet(6);
  // h1 healthy; h2 flannel binary missing; h3 not executable; h4 no conflist; h5 no subnet.env; h6 stale cni0.
  for (const h of fleet.hosts) await makeFlannelNode(h, `10.244.${h.index}.1`);
  await injectFault(H(2), 'cni-plugin-missing');
  await injectFault(H(3), 'cni-plugin-missing:not-executable');
  await injectFault(H(4), 'cni-config-missing');
  await injectFault(H(5), 'flannel-subnet-missing');
  // h6 was re-joined: flannel now gives it 10.244.3.0/24, but cni0 still has the old 10.244.9.1/24.
  execFileSync('ip', ['-n', H(6).netns, 'link', 'delete', 'cni0']);
  await addBridge(H(6), 'cni0', '10.244.9.1/24');
  setFile(H(6), 'run-flannel/subnet.env', 'FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.3.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n');
  mkdirSync(join(H(6).dir, 'var-lib-cni', 'networks', 'cbr0'), { recursive: true });
  writeFileSync(join(H(6).dir, 'var-lib-cni', 'networks', 'cbr0', '10.244.9.7'), 'abc123');
  inventory = writeInventory(fleet, 'cni.yaml', () => 'worker');
}, 60_000);

afterAll(async () => {
  await destroyFleet();
});

const find = (run: RunResult, check: string, target: string): CheckResult => run.results.find((r) => r.check === check && r.target === target)!;

describe('CNI checks on real hosts', () => {
  it('reports each fault with the right check on the right host; the healthy host passes', async () => {
    const out = await kubecheck('run', 'node', '-i', inventory, '--only', 'cni.*', '-o', 'json');
    expect(out.code).toBe(1);
    const run = JSON.parse(out.stdout) as RunResult;
    expect(find(run, 'cni.flannel-plugin', 'h2')).toMatchObject({ status: 'fail', message: expect.stringContaining('failed to find plugin "flannel" in path [/opt/cni/bin]') });
    expect(find(run, 'cni.flannel-plugin', 'h3')).toMatchObject({ status: 'fail', message: 'not executable: /opt/cni/bin/flannel' });
    expect(find(run, 'cni.config', 'h4')).toMatchObject({ status: 'fail', code: 'cni.config/missing', message: 'no networks found in /etc/cni/net.d: cni config uninitialized (the runtime reports "cni plugin not initialized")' });
    expect(find(run, 'cni.flannel-subnet', 'h5')).toMatchObject({ status: 'fail', message: expect.stringMatching(/^open \/run\/flannel\/subnet.env: no such file or directory/) });
    expect(find(run, 'cni.cni0', 'h6')).toMatchObject({ status: 'fail', message: "cni0 has 10.244.9.1/24 but this node's flannel subnet is 10.244.3.1/24: cni0 already has an IP address different from 10.244.3.1/24" });
    const expectedFaults = new Set(['cni.flannel-plugin h2', 'cni.flannel-plugin h3', 'cni.config h4', 'cni.flannel-subnet h5', 'cni.cni0 h6']);
    // h5 has no subnet.env, so its cni0 cannot be compared: a skip with the reason, not a pass.
    const others = run.results.filter((r) => !expectedFaults.has(`${r.check} ${r.target}`) && !(r.check === 'cni.cni0' && r.target === 'h5'));
    expect(others.filter((r) => r.status !== 'pass').map((r) => `${r.check} ${r.target}: ${r.message}`)).toEqual([]);
    expect(find(run, 'cni.cni0', 'h5').status).toBe('skip');
  });
});

describe('kubecheck fix', () => {
  it('cni0: the dry run changes nothing; --apply --yes makes cni.cni0 pass', async () => {
    const before = hostState(H(6));
    const dry = await kubecheck('fix', 'cni0', '--node', 'h6', '-i', inventory);
    expect(dry.code).toBe(0);
    // Re-joined: flannel.1 has the old subnet's address too, so it goes (flanneld makes it again when it
    // restarts), and so do host-local's reservations of old addresses; nothing of the new subnet is touched.
    expect(dry.stdout).toContain('Would run on h6:\n  ip link set cni0 down\n  ip link delete cni0\n  ip link set flannel.1 down\n  ip link delete flannel.1\n  for f in /var/lib/cni/networks/cbr0/[0-9]*; do case "${f##*/}" in 10.244.3.*) ;; *) rm -f "$f" ;; esac; done   # reservations outside 10.244.3.1/24\n  (note: flannel.1 had another subnet\'s address: restart flannel on this node');
    expect(dry.stdout).toContain('Dry run: nothing was changed.');
    expect(hostState(H(6))).toBe(before);
    expect(before).toContain('10.244.9.1/24');

    const applied = await kubecheck('fix', 'cni0', '--node', 'h6', '-i', inventory, '--apply', '--yes');
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain('After the fix: cni.cni0 PASS');
    expect(hostState(H(6))).not.toMatch(/cni0|flannel\.1|10\.244\.9\.7/);
    const check = JSON.parse((await kubecheck('run', 'node', '-i', inventory, '--limit', 'h6', '--only', 'cni.cni0', '-o', 'json')).stdout) as RunResult;
    expect(check.results[0].status).toBe('pass');
  });

  it('refuses when the check passes, and --apply without a terminal needs --yes', async () => {
    const refused = await kubecheck('fix', 'cni0', '--node', 'h1', '-i', inventory, '--apply', '--yes');
    expect(refused.code).toBe(0);
    expect(refused.stdout).toMatch(/^cni.cni0 passes on h1 .*: nothing to fix\./);
    const noTty = await kubecheck('fix', 'flannel-plugin', '--node', 'h3', '-i', inventory, '--apply');
    expect(noTty.code).toBe(2);
    expect(noTty.stderr).toContain('--apply without a terminal to confirm on: add --yes');
  });

  it('flannel-plugin: installs the binary from a local folder, or restores the exec bit', async () => {
    const dir = join(fleet.dir, 'plugins');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'flannel'), '#!/bin/sh\necho flannel-plugin-from-operator\n', { mode: 0o755 });
    const needFrom = await kubecheck('fix', 'flannel-plugin', '--node', 'h2', '-i', inventory, '--apply', '--yes');
    expect(needFrom.stdout).toContain('cannot fix: missing in /opt/cni/bin: flannel; give --from DIR');
    const installed = await kubecheck('fix', 'flannel-plugin', '--node', 'h2', '-i', inventory, '--from', dir, '--apply', '--yes');
    expect(installed.stdout).toContain('After the fix: cni.flannel-plugin PASS');
    expect(execFileSync(join(H(2).dir, 'opt-cni-bin', 'flannel'), { encoding: 'utf8' })).toBe('flannel-plugin-from-operator\n');
    const chmod = await kubecheck('fix', 'flannel-plugin', '--node', 'h3', '-i', inventory, '--apply', '--yes');
    expect(chmod.stdout).toContain('  chmod 755 /opt/cni/bin/flannel');
    expect(chmod.stdout).toContain('After the fix: cni.flannel-plugin PASS');
  });

  it('swap: comments out the fstab swap line that would turn swap on at boot', async () => {
    setFile(H(1), 'fstab', 'UUID=0000 / ext4 defaults 0 1\n/swap.img\tnone\tswap\tsw\t0\t0\n');
    const out = await kubecheck('fix', 'swap', '--node', 'h1', '-i', inventory, '--apply', '--yes');
    expect(out.stdout).toContain("  cp /etc/fstab /etc/fstab.kubecheck.bak\n  sed '/^[^#].*[[:space:]]swap[[:space:]]/ s/^/#/' /etc/fstab.kubecheck.bak > /etc/fstab");
    expect(out.stdout).toContain('After the fix: node.swap PASS');
    expect(execFileSync('cat', [join(H(1).dir, 'fstab')], { encoding: 'utf8' })).toContain('#/swap.img\tnone\tswap');
  });
});
