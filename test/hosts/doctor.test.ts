// kubecheck doctor on real test hosts, one fault each, and on the real control plane whose KWOK nodes
// carry the same names: cluster evidence alone, then refined by the hosts.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createNodes, until } from '../../scripts/cluster-fixtures.js';
import { restartComponent, stopComponent } from '../../scripts/controlplane.js';
import { createFleet, destroyFleet, injectFault, makeFlannelNode, startKubelet, type HostFault, type TestFleet, writeInventory } from '../../scripts/testhosts.js';
import { KubeApi } from '../../src/k8s/api.js';
import type { Diagnosis, RunResult } from '../../src/core/types.js';
import { ROOT } from '../helpers.js';
import { kubecheck } from '../cluster/helpers.js';

const kubeconfig = inject('kubeconfig');
const clusterDir = inject('clusterDir');
let fleet: TestFleet;
let inventory: string;

const EXPECTED: Record<string, string> = {
  h1: 'kubelet-down', h2: 'runtime-down', h3: 'swap-enabled', h4: 'cni-plugin-missing', h5: 'cni-plugin-missing',
  h6: 'cni-config-missing', h7: 'flannel-subnet-missing', h8: 'cni0-ip-conflict', h9: 'certificate-expired', h10: 'certificate-expired', h11: 'healthy',
};

const FAULTS: (HostFault | null)[] = ['kubelet-down', 'runtime-down', 'swap-enabled', 'cni-plugin-missing', 'cni-plugin-missing:not-executable', 'cni-config-missing', 'flannel-subnet-missing', 'cni0-ip-conflict', 'certificate-expired:apiserver', 'certificate-expired:kubelet', null];

beforeAll(async () => {
  fleet = await createFleet(11);
  for (const h of fleet.hosts) {
    await makeFlannelNode(h, `10.244.${h.index}.1`);
    await startKubelet(h);
    const fault = FAULTS[h.index - 1];
    if (fault) await injectFault(h, fault);
  }
  inventory = writeInventory(fleet, 'doctor.yaml', (h) => (h.index === 9 ? 'control-plane' : 'worker'));
}, 90_000);

afterAll(async () => {
  await destroyFleet();
});

const tops = (run: RunResult) => {
  const first = new Map<string, Diagnosis>();
  for (const d of run.diagnoses ?? []) if (!first.has(d.node)) first.set(d.node, d);
  return first;
};

describe('doctor from the hosts', () => {
  it('names the right top cause on each host, and healthy for the healthy one, in one run', async () => {
    const out = await kubecheck('doctor', '-i', inventory, '--json', join(fleet.dir, 'doctor.json'), '--junit', join(fleet.dir, 'doctor.xml'));
    expect(out.code).toBe(1);
    const run = JSON.parse(readFileSync(join(fleet.dir, 'doctor.json'), 'utf8')) as RunResult;
    const got = Object.fromEntries([...tops(run)].map(([n, d]) => [n, d.cause]));
    expect(got).toEqual(EXPECTED);
    const t = tops(run);
    expect(t.get('h8')).toMatchObject({ summary: "cni0 has 10.244.208.1/24 but this node's flannel subnet is 10.244.8.1/24", fix: ['kubecheck fix cni0 --node h8 --apply'] });
    expect(t.get('h10')?.summary).toContain('/var/lib/kubelet/pki/kubelet-client-current.pem');
    expect(t.get('h9')?.summary).toContain('/etc/kubernetes/pki/apiserver.crt');
    expect(out.stdout).toContain("h8 cni0 has 10.244.208.1/24 but this node's flannel subnet is 10.244.8.1/24 → run: kubecheck fix cni0 --node h8 --apply");
    // JUnit: one testcase per node, valid against the Jenkins schema.
    execFileSync('xmllint', ['--noout', '--schema', join(ROOT, 'fixtures/schemas/junit-jenkins.xsd'), join(fleet.dir, 'doctor.xml')], { stdio: 'pipe' });
    expect(readFileSync(join(fleet.dir, 'doctor.xml'), 'utf8').match(/<testcase /g)).toHaveLength(11);
  });
});

describe('doctor with the real control plane', () => {
  let api: KubeApi;
  const names = ['h1', 'h3', 'h8', 'h11'];

  beforeAll(async () => {
    api = await KubeApi.connect({ kubeconfig });
    await createNodes(api, names);
    await until('the nodes to be Ready', 60_000, async () => {
      const list = await api.getJson<{ items: { metadata: { name: string }; status: { conditions?: { type: string; status: string }[] } }[] }>('/api/v1/nodes');
      return names.every((n) => list.items.find((i) => i.metadata.name === n)?.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    });
    stopComponent('kwok', clusterDir); // every KWOK node's heartbeat stops
    await until('the nodes to turn NotReady', 90_000, async () => {
      const list = await api.getJson<{ items: { metadata: { name: string }; status: { conditions?: { type: string; status: string }[] } }[] }>('/api/v1/nodes');
      return names.every((n) => list.items.find((i) => i.metadata.name === n)?.status.conditions?.some((c) => c.type === 'Ready' && c.status !== 'True'));
    });
  }, 180_000);

  afterAll(async () => {
    await restartComponent('kwok', clusterDir);
    for (const n of names) await api.send('DELETE', `/api/v1/nodes/${n}`, undefined).catch(() => undefined);
  });

  it('diagnoses stopped heartbeats from cluster evidence alone', async () => {
    const out = await kubecheck('doctor', ...names, '--kubeconfig', kubeconfig, '-o', 'json');
    expect(out.code).toBe(1);
    const t = tops(JSON.parse(out.stdout) as RunResult);
    for (const n of names) {
      expect(t.get(n)).toMatchObject({ cause: 'node-unreachable', confidence: 'medium', state: expect.stringMatching(/^NotReady since /) });
      expect(t.get(n)?.evidence.join('\n')).toContain('Kubelet stopped posting node status');
    }
  });

  it('refines the cause with the hosts\' evidence', async () => {
    const out = await kubecheck('doctor', '--kubeconfig', kubeconfig, '-i', inventory, '-o', 'json');
    const run = JSON.parse(out.stdout) as RunResult;
    const t = tops(run);
    expect(t.get('h1')?.cause).toBe('kubelet-down');
    expect(t.get('h3')?.cause).toBe('swap-enabled');
    expect(t.get('h8')?.cause).toBe('cni0-ip-conflict');
    // h11's host is fine: its heartbeats are not reaching the API server (low confidence, says so).
    expect(t.get('h11')).toMatchObject({ cause: 'node-unreachable', confidence: 'low' });
    // Only the NotReady nodes were diagnosed by default.
    expect(run.results.every((r) => r.message.startsWith('NotReady'))).toBe(true);
  });
});
