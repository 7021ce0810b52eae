// The real cluster, healthy: kubecheck's smoke and post-install host checks pass on real nodes (kubeadm
// init/join, real kubelet, containerd + runc, flannel, kube-proxy, CoreDNS), each for the right reason.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunResult } from '../../src/core/types.js';
import { kubecheck } from '../cluster/helpers.js';
import { type Real, realCluster } from './helpers.js';

let r: Real;
beforeAll(async () => {
  r = await realCluster();
}, 900_000);

const byTarget = (run: RunResult, check: string) => Object.fromEntries(run.results.filter((x) => x.check === check).map((x) => [x.target, x.message]));

describe('a healthy real cluster', { timeout: 420_000 }, () => {
  it('passes kubecheck smoke, every check for what it found on the real cluster', async () => {
    const json = join(r.cluster.dir, 'smoke.json');
    const out = await kubecheck('smoke', '--kubeconfig', r.cluster.kubeconfig, '--json', json);
    const run = JSON.parse(readFileSync(json, 'utf8')) as RunResult;
    expect(run.results.filter((x) => x.status !== 'pass'), out.stdout).toEqual([]);
    expect(out.code).toBe(0);
    expect(Object.keys(byTarget(run, 'cluster.nodes')).sort()).toEqual(['cp1', 'w1', 'w2']);
    for (const m of Object.values(byTarget(run, 'cluster.nodes'))) expect(m).toBe('Ready, lease fresh, kubelet v1.33.13');
    const msg = (id: string) => run.results.find((x) => x.check === id)?.message;
    expect(msg('cluster.kube-proxy')).toBe('kube-proxy ready on 3 of 3 nodes');
    expect(msg('cluster.coredns')).toBe('CoreDNS ready 2/2');
    expect(msg('cni.flannel-daemonset')).toBe('kube-flannel ready on 3 of 3 nodes; every node has a podCIDR; Network 10.244.0.0/16 matches');
    expect(msg('cluster.scheduler')).toMatch(/^leader cp1_/);
    expect(msg('token.bootstrap')).toMatch(/^1 valid bootstrap token, all signed in cluster-info/);
    expect(run.parameters?.clusterVersion).toBe('v1.33.13');
  });

  it('passes `kubecheck run node` over SSH on every real node (post-install), each check on real facts', async () => {
    const json = join(r.cluster.dir, 'node.json');
    const out = await kubecheck('run', 'node', '-i', r.cluster.inventory, '--kubeconfig', r.cluster.kubeconfig, '--json', json);
    const run = JSON.parse(readFileSync(json, 'utf8')) as RunResult;
    // A kubeadm node runs no host services of an install's own (binary, k3s): that one check says so and skips.
    const notApplicable = (x: RunResult['results'][number]) => x.status === 'skip' && x.code === 'node.services/not-applicable';
    expect(run.results.filter((x) => notApplicable(x)).map((x) => x.target).sort()).toEqual(['cp1', 'w1', 'w2']);
    expect(run.results.filter((x) => x.status !== 'pass' && !notApplicable(x)), out.stdout).toEqual([]);
    expect(out.code).toBe(0);
    expect(new Set(run.results.map((x) => x.target))).toEqual(new Set(['cp1', 'w1', 'w2']));
    // The kubelet is the real one, answering its real /healthz; the runtime answers the CRI.
    for (const m of Object.values(byTarget(run, 'node.kubelet'))) expect(m).toMatch(/^kubelet runs \(pid \d+\), \/healthz ok$/);
    for (const m of Object.values(byTarget(run, 'node.runtime'))) expect(m).toBe('runtime answers on /run/containerd/containerd.sock (RuntimeName: containerd)');
    // Ports are held by the real static pods on cp1, and by the real kubelet on the workers.
    expect(byTarget(run, 'node.ports')).toEqual({ cp1: 'ports held by their components: 6443, 2379-2380, 10250, 10257, 10259', w1: 'ports held by their components: 10250, NodePorts', w2: 'ports held by their components: 10250, NodePorts' });
    // kubeadm's certificates on cp1 (CA, apiserver, etcd, front-proxy…), the kubelet's on every node.
    expect(byTarget(run, 'node.certificates').cp1).toMatch(/^1\d certificates valid/);
    // flanneld wrote subnet.env with the podCIDR the controller-manager gave each node.
    for (const m of Object.values(byTarget(run, 'cni.flannel-subnet'))) expect(m).toMatch(/^FLANNEL_SUBNET 10\.244\.\d+\.1\/24 is the node's podCIDR$/);
    for (const m of Object.values(byTarget(run, 'cni.flannel-vxlan'))) expect(m).toBe('flannel.1 up, UDP 8472 bound');
    for (const m of Object.values(byTarget(run, 'cni.config'))) expect(m).toBe('10-flannel.conflist (flannel → portmap)');
    for (const m of Object.values(byTarget(run, 'node.cgroup-driver'))) expect(m).toBe('both use cgroupfs');
  });
});
