// kubecheck fix on real nodes: after the fix, new pods on that node get sandboxes and become Ready, and
// the node still reaches pods on other nodes (the fix must not break the flannel path it does not own).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FOREIGN_CNI0, onNode } from '../../scripts/realcluster.js';
import { NODE_BIN_DIR } from '../../scripts/node-binaries.js';
import type { RunResult } from '../../src/core/types.js';
import { kubecheck } from '../cluster/helpers.js';
import { type Real, execIn, realCluster, startPod, waitPodEvent, waitPodReady, withFaults } from './helpers.js';

let r: Real;
beforeAll(async () => {
  r = await realCluster();
}, 900_000);

async function doctorCause(node: string): Promise<{ cause: string; summary: string; evidence: string }> {
  const json = join(r.cluster.dir, `fix-doctor-${node}.json`);
  await kubecheck('doctor', node, '--kubeconfig', r.cluster.kubeconfig, '-i', r.cluster.inventory, '--json', json);
  const d = (JSON.parse(readFileSync(json, 'utf8')) as RunResult).diagnoses![0];
  return { cause: d.cause, summary: d.summary, evidence: d.evidence.join('\n') };
}

describe('kubecheck fix on real nodes', { timeout: 420_000 }, () => {
  it('fix cni0 --apply on the real "already has an IP address different from" state: new pods run, cross-node traffic still flows', async () => {
    // A pod on w1 to reach afterwards, and one on w2 so w2 has a cni0 to break.
    await startPod(r, 'peer-w1', 'w1');
    await startPod(r, 'before-w2', 'w2');
    const peer = await waitPodReady(r, 'peer-w1');
    await waitPodReady(r, 'before-w2');
    await withFaults(r, [['w2', 'cni0-ip-conflict']], async () => {
      await startPod(r, 'stuck-w2', 'w2');
      const event = await waitPodEvent(r, 'stuck-w2', 'already has an IP address different from');
      expect(event).toMatch(/failed to set bridge addr: "cni0" already has an IP address different from 10\.244\.\d+\.1\/24/);
      const d = await doctorCause('w2');
      expect(d).toMatchObject({ cause: 'cni0-ip-conflict', summary: expect.stringContaining(`cni0 has ${FOREIGN_CNI0}`) });
      expect(d.evidence).toContain('already has an IP address different from');

      const fix = await kubecheck('fix', 'cni0', '--node', 'w2', '-i', r.cluster.inventory, '--apply', '--yes');
      expect(fix.stdout).toContain('After the fix: cni.cni0 PASS');
      expect(fix.stdout).not.toContain('ip link delete flannel.1');
      expect(fix.code).toBe(0);
      // The kubelet retries the sandbox; the bridge plugin makes cni0 again with the right address.
      const fixed = await waitPodReady(r, 'stuck-w2', 120_000);
      expect(fixed.status?.podIP).toMatch(/^10\.244\./);
      await startPod(r, 'after-w2', 'w2');
      await waitPodReady(r, 'after-w2');
      const ping = await execIn(r, 'after-w2', ['ping', '-c', '1', '-W', '3', peer.status!.podIP!]);
      expect(ping.exitCode, ping.stdout + ping.stderr).toBe(0);
      expect(await onNode(r.node('w2'), 'ip -4 -o addr show cni0')).not.toContain(FOREIGN_CNI0.split('/')[0]);
    });
  });

  it('fix flannel-plugin --from DIR --apply installs the missing plugin; the waiting pod starts', async () => {
    await withFaults(r, [['w1', 'cni-plugin-missing']], async () => {
      await startPod(r, 'stuck-w1', 'w1');
      await waitPodEvent(r, 'stuck-w1', 'failed to find plugin "flannel" in path [/opt/cni/bin]');
      expect(await doctorCause('w1')).toMatchObject({ cause: 'cni-plugin-missing' });
      const dry = await kubecheck('fix', 'flannel-plugin', '--node', 'w1', '-i', r.cluster.inventory, '--from', NODE_BIN_DIR);
      expect(dry.stdout).toContain('Dry run: nothing was changed');
      expect(await onNode(r.node('w1'), 'test -e /opt/cni/bin/flannel && echo present || echo absent')).toBe('absent\n');
      const fix = await kubecheck('fix', 'flannel-plugin', '--node', 'w1', '-i', r.cluster.inventory, '--from', NODE_BIN_DIR, '--apply', '--yes');
      expect(fix.stdout).toContain('After the fix: cni.flannel-plugin PASS');
      expect(fix.code).toBe(0);
      await waitPodReady(r, 'stuck-w1', 120_000);
    });
  });
});
