// Install profiles on real test hosts laid out as those installs lay hosts out: a binary HA install (m1
// control plane, n1 worker), k3s (k1 server, k2 agent), and a kubeadm worker running calico instead of
// flannel (c1). Each is detected, passes `run node` with no false failure, and its real faults are found.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PROFILE_MOUNTS, TEST_NETWORK, createHosts, destroyFleet, freshCertificate, makeBinaryNode, makeK3sNode, setFile, startKubelet, stopProgram,
  type TestFleet, type TestHost,
} from '../../scripts/testhosts.js';
import type { CheckResult, RunResult } from '../../src/core/types.js';
import { ROOT } from '../helpers.js';
import { kubecheck } from '../cluster/helpers.js';

let fleet: TestFleet;
let inventory: string;
const host = (name: string): TestHost => fleet.hosts.find((h) => h.name === name)!;

beforeAll(async () => {
  fleet = await createHosts(TEST_NETWORK, ['m1', 'n1', 'k1', 'k2', 'c1'], { mounts: PROFILE_MOUNTS });
  await makeBinaryNode(host('m1'), 'control-plane', '10.244.1.1');
  await makeBinaryNode(host('n1'), 'worker', '10.244.2.1');
  await makeK3sNode(host('k1'), 'server', '10.42.0.1');
  await makeK3sNode(host('k2'), 'agent', '10.42.1.1');
  // c1: a kubeadm worker whose CNI is calico.
  const c1 = host('c1');
  await startKubelet(c1);
  setFile(c1, 'var-lib-kubelet/config.yaml', 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncgroupDriver: cgroupfs\n');
  setFile(c1, 'etc-containerd/config.toml', '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]\n  SystemdCgroup = false\n');
  setFile(c1, 'var-lib-kubelet/pki/kubelet-client-current.pem', await freshCertificate('system:node:c1'));
  setFile(c1, 'opt-cni-bin/calico', '#!/bin/sh\nexit 0\n', 0o755);
  setFile(c1, 'etc-cni-net.d/10-calico.conflist', JSON.stringify({ name: 'k8s-pod-network', cniVersion: '0.3.1', plugins: [{ type: 'calico', ipam: { type: 'calico-ipam' } }, { type: 'portmap', capabilities: { portMappings: true } }] }));
  const roles: Record<string, string> = { m1: 'control-plane, etcd', n1: 'worker', k1: 'control-plane', k2: 'worker', c1: 'worker' };
  inventory = join(fleet.dir, 'profiles.yaml');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(inventory, [
    `defaults: {user: root, identityFile: ${fleet.key}, knownHostsFile: ${fleet.knownHosts}, hostKeyPolicy: strict}`,
    'nodes:',
    ...fleet.hosts.map((h) => `  - {name: ${h.name}, host: ${h.ip}, roles: [${roles[h.name]}]}`),
    '',
  ].join('\n'));
}, 120_000);

afterAll(async () => {
  await destroyFleet();
});

async function runNode(file: string): Promise<{ run: RunResult; code: number; stdout: string }> {
  const json = join(fleet.dir, file);
  const out = await kubecheck('run', 'node', '-i', inventory, '--json', json);
  return { run: JSON.parse(readFileSync(json, 'utf8')) as RunResult, code: out.code, stdout: out.stdout };
}

const line = (r: CheckResult) => `${r.target} ${r.check} ${r.status} ${r.code ?? ''}`.trim();

describe('install profiles on real hosts', () => {
  it('detects each host\'s install and CNI, and passes run node with no false failure', async () => {
    const { run, code, stdout } = await runNode('healthy.json');
    expect(run.targets?.map((t) => [t.name, t.profile, t.cni])).toEqual([
      ['c1', 'kubeadm', 'calico'], ['k1', 'k3s', 'flannel'], ['k2', 'k3s', 'flannel'], ['m1', 'binary', 'flannel'], ['n1', 'binary', 'flannel'],
    ]);
    // Everything passes, but what does not apply there: said with the reason, never a failure.
    expect(run.results.filter((r) => r.status !== 'pass').map(line).sort(), stdout).toEqual([
      'c1 cni.cni0 skip cni.cni0/not-flannel',
      'c1 cni.flannel-plugin skip cni.flannel-plugin/not-flannel',
      'c1 cni.flannel-subnet skip cni.flannel-subnet/not-flannel',
      'c1 cni.flannel-vxlan skip cni.flannel-vxlan/not-flannel',
      'c1 node.services skip node.services/not-applicable',
      'k1 node.cgroup-driver skip node.cgroup-driver/not-configured',
      'k2 node.cgroup-driver skip node.cgroup-driver/not-configured',
    ]);
    expect(code).toBe(0);
    const msg = (check: string, target: string) => run.results.find((r) => r.check === check && r.target === target)!.message;
    // Each check read the install's own places.
    expect(msg('cni.flannel-plugin', 'k2')).toBe('flannel, bridge, host-local, loopback, portmap present and executable');
    expect(msg('cni.config', 'k2')).toBe('10-flannel.conflist (flannel → portmap)');
    expect(msg('cni.config', 'c1')).toBe('10-calico.conflist (calico → portmap)');
    expect(msg('node.runtime', 'k1')).toMatch(/^runtime answers on \/run\/k3s\/containerd\/containerd\.sock/);
    expect(msg('node.certificates', 'm1')).toMatch(/^\d+ certificates valid/);
    expect(run.results.find((r) => r.check === 'node.certificates' && r.target === 'm1')!.evidence?.certificates).toContain('/etc/kubernetes/cert/kubernetes.pem');
    expect(msg('node.certificates', 'k1')).toMatch(/^4 certificates valid/);
    expect(msg('node.services', 'm1')).toBe('kube-apiserver, kube-controller-manager, kube-scheduler, etcd, kube-proxy, flanneld running and enabled at boot');
    expect(msg('node.services', 'n1')).toBe('kube-proxy, flanneld running and enabled at boot');
    expect(msg('node.services', 'k2')).toBe('k3s-agent running and enabled at boot');
    expect(msg('node.ports', 'm1')).toBe('ports held by their components: 6443, 2379-2380, 10250, 10257, 10259');
    expect(msg('node.ports', 'k1')).toBe('ports held by their components: 6443, 10250');
    expect(stdout).toContain('(profile kubeadm, calico; k3s, flannel; binary, flannel)');
  });

  it('finds each install\'s real faults: a stopped kube-proxy service, an expired certificate under /etc/kubernetes/cert, a k3s agent without subnet.env', async () => {
    await stopProgram(host('n1'), 'kube-proxy');
    setFile(host('m1'), 'etc-kubernetes/cert/kubernetes.pem', readFileSync(join(ROOT, 'fixtures/certs/apiserver-expired.crt'), 'utf8'));
    rmSync(join(host('k2').dir, 'run-flannel', 'subnet.env'));
    const { run, code } = await runNode('faults.json');
    expect(code).toBe(1);
    const bad = run.results.filter((r) => r.status === 'fail' || r.status === 'error' || r.status === 'warn');
    expect(bad.map(line).sort()).toEqual([
      'k2 cni.flannel-subnet fail cni.flannel-subnet/missing',
      'm1 node.certificates fail node.certificates/expired',
      'n1 node.services fail node.services/not-running',
    ]);
    const get = (check: string, target: string) => bad.find((r) => r.check === check && r.target === target)!;
    expect(get('node.services', 'n1').message).toBe('kube-proxy is not running');
    expect(get('node.services', 'n1').remediation).toMatch(/^restart kube-proxy with this host's init system/);
    expect(get('node.certificates', 'm1').message).toBe('/etc/kubernetes/cert/kubernetes.pem expired on 2026-01-01');
    // k3s's flannel runs inside k3s: the fix restarts the agent, not a kube-flannel pod.
    expect(get('cni.flannel-subnet', 'k2').remediation).toMatch(/^restart k3s-agent with this host's init system/);
    // The doctor reads the same findings, with the same fix.
    const doctor = await kubecheck('doctor', 'k2', '-i', inventory, '-o', 'json');
    const d = (JSON.parse(doctor.stdout) as RunResult).diagnoses![0];
    expect(d).toMatchObject({ node: 'k2', cause: 'flannel-subnet-missing', codes: ['cni.flannel-subnet/missing'] });
    expect(d.fix[0]).toMatch(/^restart k3s-agent/);
  });

  it('--profile overrides the detection', async () => {
    const out = await kubecheck('run', 'node', '-i', inventory, '--limit', 'n1', '--profile', 'kubeadm', '-o', 'json');
    const run = JSON.parse(out.stdout) as RunResult;
    expect(run.targets?.[0]).toMatchObject({ name: 'n1', profile: 'kubeadm' });
    expect(run.results.find((r) => r.check === 'node.services')?.status).toBe('skip');
  });
});
