// kubecheck doctor on real failures: each round breaks one real thing on each worker, lets the real
// kubelet, containerd and CNI react (NotReady, or a pod whose sandbox fails), runs doctor, checks the
// cause, the real evidence (the kubelet's or runtime's own words) and the fix, then repairs the nodes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Diagnosis, RunResult } from '../../src/core/types.js';
import { kubecheck } from '../cluster/helpers.js';
import { type Real, type RealFault, realCluster, startPod, waitNotReady, waitPodEvent, withFaults } from './helpers.js';

let r: Real;
beforeAll(async () => {
  r = await realCluster();
}, 900_000);

/** What the real components say, that the doctor must show as evidence, and a bit of the fix. */
const EXPECT: Record<RealFault, { evidence: string; fix: string; pod?: string }> = {
  'runtime-down': { evidence: 'Ready=False: container runtime is down', fix: 'restart containerd' },
  'kubelet-down': { evidence: 'Kubelet stopped posting node status', fix: 'restart kubelet' },
  'cni-config-missing': { evidence: 'cni plugin not initialized', fix: 'kubectl -n kube-flannel delete pod -l app=flannel --field-selector spec.nodeName=' },
  'swap-enabled': { evidence: 'running with swap on is not supported, please disable swap', fix: 'kubecheck fix swap --node ' },
  'cgroup-driver-mismatch': { evidence: 'for systemd cgroups, got', fix: 'SystemdCgroup = false', pod: 'expected cgroupsPath to be of format' },
  'certificate-expired': { evidence: 'bootstrap client certificate in /etc/kubernetes/kubelet.conf is expired', fix: 'kubeadm kubeconfig user --org system:nodes --client-name system:node:' },
  'cni-plugin-missing': { evidence: 'failed to find plugin "flannel" in path [/opt/cni/bin]', fix: 'kubecheck fix flannel-plugin --node ', pod: 'failed to find plugin "flannel"' },
  'flannel-subnet-missing': { evidence: 'open /run/flannel/subnet.env: no such file or directory', fix: 'kubectl -n kube-flannel delete pod -l app=flannel', pod: 'open /run/flannel/subnet.env' },
  'cni0-ip-conflict': { evidence: 'already has an IP address different from', fix: 'kubecheck fix cni0 --node ', pod: 'already has an IP address different from' },
};

async function round(faults: [string, RealFault][], file: string): Promise<void> {
  await withFaults(r, faults, async () => {
    // Let the real components react: the node goes NotReady, or a new pod's sandbox fails.
    await Promise.all(faults.map(async ([node, fault]) => {
      const pod = EXPECT[fault].pod;
      if (pod) {
        await startPod(r, `probe-${node}`, node);
        await waitPodEvent(r, `probe-${node}`, pod);
      } else {
        await waitNotReady(r, node);
      }
    }));
    const json = join(r.cluster.dir, file);
    const out = await kubecheck('doctor', ...faults.map(([n]) => n), '--kubeconfig', r.cluster.kubeconfig, '-i', r.cluster.inventory, '--json', json);
    expect(out.code, out.stdout + out.stderr).toBe(1);
    const run = JSON.parse(readFileSync(json, 'utf8')) as RunResult;
    const first = new Map<string, Diagnosis>();
    for (const d of run.diagnoses ?? []) if (!first.has(d.node)) first.set(d.node, d);
    for (const [node, fault] of faults) {
      const d = first.get(node);
      expect(d?.cause, `${node}: ${out.stdout}`).toBe(fault);
      expect(d!.confidence).toBe('high');
      expect(d!.evidence.join('\n'), `${node} ${fault} evidence`).toContain(EXPECT[fault].evidence);
      expect(d!.fix.join('\n'), `${node} ${fault} fix`).toContain(EXPECT[fault].fix);
      expect(d!.codes?.length, `${node} ${fault} codes`).toBeGreaterThan(0);
    }
  });
}

describe('doctor on real failures, two at a time', { timeout: 420_000 }, () => {
  it('runtime stopped (w1) and kubelet stopped (w2): both NotReady, each for its own reason', async () => {
    await round([['w1', 'runtime-down'], ['w2', 'kubelet-down']], 'doctor-1.json');
  });
  it('CNI config removed (w1) and swap on (w2): the real "cni plugin not initialized" and the real swap refusal', async () => {
    await round([['w1', 'cni-config-missing'], ['w2', 'swap-enabled']], 'doctor-2.json');
  });
  it('cgroup drivers apart (w1) and an expired kubelet client certificate (w2)', async () => {
    await round([['w1', 'cgroup-driver-mismatch'], ['w2', 'certificate-expired']], 'doctor-3.json');
  });
  it('flannel\'s subnet.env gone (w2): new pods fail with the plugin\'s own error', async () => {
    await round([['w2', 'flannel-subnet-missing']], 'doctor-4.json');
  });
  it('with no node named, doctor looks at the NotReady nodes only, and the healthy control plane is left out', async () => {
    await withFaults(r, [['w1', 'runtime-down']], async () => {
      await waitNotReady(r, 'w1');
      const json = join(r.cluster.dir, 'doctor-default.json');
      const out = await kubecheck('doctor', '--kubeconfig', r.cluster.kubeconfig, '-i', r.cluster.inventory, '--json', json);
      expect(out.code).toBe(1);
      const run = JSON.parse(readFileSync(json, 'utf8')) as RunResult;
      expect(run.results.map((x) => [x.target, x.status, x.code])).toEqual([['w1', 'fail', 'doctor.node/runtime-down']]);
    });
  });
});
