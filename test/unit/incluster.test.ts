// The pure parts of the in-cluster collection, on objects recorded from the real cluster (test/real/):
// the namespace and DaemonSet it creates, the image it names, which nodes it reaches with which roles,
// which nodes cannot run its pod, and what a collector pod's state says. Also the recorded in-cluster
// collector output: the same parser as SSH, the same facts.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectorDaemonSet, collectorImage, collectorNamespace } from '../../src/incluster/manifests.js';
import { type RawCollectorPod, type RawNode, cannotRunPods, nodeTargetOf, podNode, podOutcome, rolesOf } from '../../src/incluster/pods.js';
import { Semaphore, UNPACK_FAILED, hostCommand, runPacked, unpackFailed } from '../../src/incluster/transport.js';
import { nodeCollectorScript } from '../../src/collectors/node/index.js';
import { factsFrom, fixture } from '../helpers.js';

const nodes = JSON.parse(fixture('incluster/nodes.json')) as RawNode[];
const running = JSON.parse(fixture('incluster/pods-running.json')) as RawCollectorPod[];
const pullFailing = JSON.parse(fixture('incluster/pods-image-pull.json')) as RawCollectorPod[];
const target = (name: string) => nodeTargetOf(nodes.find((n) => n.metadata?.name === name)!, new Set(['cp1']));

describe('what an in-cluster collection creates', () => {
  it('names the collector image after the mirror and the package version, or takes the one given', () => {
    expect(collectorImage({ registry: 'registry.local:5000/', version: '0.1.0' })).toBe('registry.local:5000/kubecheck/collector:0.1.0');
    expect(collectorImage({ image: 'mirror/kc:dev', registry: 'registry.local:5000', version: '0.1.0' })).toBe('mirror/kc:dev');
    expect(collectorImage({ version: '0.1.0' })).toBeUndefined();
  });

  it('a namespace of its own, labelled for cleanup and allowed privileged pods', () => {
    const ns = collectorNamespace({ namespace: 'kubecheck-collect-abc123', image: 'i' }) as { metadata: { labels: Record<string, string> } };
    expect(ns.metadata.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'kubecheck',
      'kubecheck.dev/collector': 'true',
      'pod-security.kubernetes.io/enforce': 'privileged',
    });
  });

  it('a DaemonSet on every node (all taints tolerated) with the host\'s PID and network namespaces and its root read-only at /host', () => {
    const ds = collectorDaemonSet({ namespace: 'ns', image: 'reg/kubecheck/collector:0.1.0' }) as { spec: { template: { spec: Record<string, unknown> & { containers: Record<string, unknown>[]; volumes: unknown[] } } } };
    const pod = ds.spec.template.spec;
    expect(pod).toMatchObject({ hostPID: true, hostNetwork: true, automountServiceAccountToken: false, tolerations: [{ operator: 'Exists' }] });
    expect(pod.affinity).toBeUndefined();
    expect(pod.nodeSelector).toBeUndefined();
    expect(pod.containers[0]).toMatchObject({ image: 'reg/kubecheck/collector:0.1.0', securityContext: { privileged: true }, volumeMounts: [{ name: 'host', mountPath: '/host', readOnly: true }] });
    expect(pod.volumes).toEqual([{ name: 'host', hostPath: { path: '/' } }]);
  });

  it('only the chosen nodes get a pod: a node selector, or their names (doctor, --limit)', () => {
    const ds = collectorDaemonSet({ namespace: 'ns', image: 'i', nodeSelector: { pool: 'a' }, nodes: ['w1', 'w2'] }) as { spec: { template: { spec: { nodeSelector: unknown; affinity: unknown } } } };
    expect(ds.spec.template.spec.nodeSelector).toEqual({ pool: 'a' });
    expect(ds.spec.template.spec.affinity).toEqual({ nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['w1', 'w2'] }] }] } } });
  });
});

describe('nodes and collector pods, as the real cluster showed them', () => {
  it('a node\'s address and roles: kubeadm\'s control-plane label, the etcd pod on it, else worker', () => {
    expect(target('cp1')).toMatchObject({ name: 'cp1', address: '10.214.0.10', roles: ['control-plane', 'etcd'] });
    expect(target('w1')).toMatchObject({ name: 'w1', address: '10.214.0.11', roles: ['worker'] });
    expect(rolesOf({ 'node-role.kubernetes.io/control-plane': 'true', 'node-role.kubernetes.io/etcd': 'true' }, false)).toEqual(['control-plane', 'etcd']);
    expect(rolesOf({ 'node-role.kubernetes.io/master': '' }, false)).toEqual(['control-plane']);
  });

  it('which nodes cannot run the pod at all: a kubelet that stopped posting, a runtime that is down — not a node whose pod network is down', () => {
    expect(cannotRunPods(target('cp1'))).toBeUndefined();
    // w1 had its conflist removed: NotReady, but host-network pods (the collector's) still start there.
    expect(target('w1').ready.status).toBe('False');
    expect(cannotRunPods(target('w1'))).toBeUndefined();
    expect(cannotRunPods(target('w2'))).toBe('node NotReady (Ready=Unknown, NodeStatusUnknown: Kubelet stopped posting node status.)');
    // The same node recorded with containerd stopped (renamed in the fixture to keep both).
    expect(cannotRunPods(target('w2-runtime-down'))).toBe('node NotReady (Ready=False, KubeletNotReady: container runtime is down)');
  });

  it('a running collector pod opens its node; a pull that fails says why; each pod names its node', () => {
    expect(running.map((p) => [podNode(p), podOutcome(p).state]).sort()).toEqual([['cp1', 'running'], ['w1', 'running'], ['w2', 'running']]);
    for (const p of pullFailing) {
      const outcome = podOutcome(p);
      expect(outcome.state, podNode(p)).toBe('failed');
      expect(outcome.state === 'failed' && outcome.reason).toMatch(/^(ErrImagePull|ImagePullBackOff): .*10\.214\.0\.2:5000\/kubecheck\/collector:does-not-exist: not found$/);
    }
  });

  it('a pod not yet scheduled is the node its DaemonSet affinity names, and it is still waiting', () => {
    const pending: RawCollectorPod = {
      metadata: { name: 'kubecheck-collector-x' },
      spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', values: ['w9'] }] }] } } } },
      status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available: 1 Insufficient cpu.' }] },
    };
    expect(podNode(pending)).toBe('w9');
    expect(podOutcome(pending)).toEqual({ state: 'waiting', detail: 'not scheduled: Unschedulable: 0/3 nodes are available: 1 Insufficient cpu.' });
  });

  it('the collector output recorded in a real collector pod (chroot /host) parses into the same kind of facts as over SSH', () => {
    const facts = factsFrom('real-w1-incluster.txt');
    expect(facts.hostname).toBe('w1');
    expect(facts.uid).toBe(0);
    expect(facts.profile).toMatchObject({ name: 'kubeadm', cni: 'flannel' });
    // The host's own processes and listeners (hostPID, hostNetwork), not the pod's.
    expect(facts.processes.map((p) => p.comm)).toEqual(expect.arrayContaining(['kubelet', 'containerd', 'kube-proxy', 'flanneld']));
    expect(facts.listeners.ok && facts.listeners.value.find((l) => l.port === 10250)?.process).toBe('kubelet');
    expect(facts.cni.subnetEnv.ok && facts.cni.subnetEnv.value.FLANNEL_SUBNET).toMatch(/^10\.244\.\d+\.1\/24$/);
  });
});

describe('the in-cluster exec limit', () => {
  it('runs at most `limit` at once and lets the next one in as each ends', async () => {
    const s = new Semaphore(2);
    let now = 0;
    let most = 0;
    const signal = new AbortController().signal;
    const work = () => s.run(async () => {
      now++;
      most = Math.max(most, now);
      await new Promise((r) => setTimeout(r, 10));
      now--;
      return now;
    }, signal);
    await Promise.all(Array.from({ length: 7 }, work));
    expect(most).toBe(2);
  });

  it('a waiter leaves the queue when the run is interrupted', async () => {
    const s = new Semaphore(1);
    const stop = new AbortController();
    let release!: () => void;
    const first = s.run(() => new Promise<void>((r) => (release = r)), stop.signal);
    const second = s.run(async () => 'ran', stop.signal);
    stop.abort();
    await expect(second).rejects.toThrow('interrupted');
    release();
    await first;
    expect(await s.run(async () => 'free again', new AbortController().signal)).toBe('free again');
  });
});

describe('the host command a script travels in', () => {
  // Real shells run what the pod's chroot would hand the host: Debian's dash and busybox's ash (Alpine, k3s).
  const shells = [['/bin/sh'], ['/usr/bin/busybox', 'sh']];
  const script = `f() { echo "args $# [$*]"; }\nf a 'b c'\nset -- x y z\necho "set $# $2"\necho "$(printf '%s' "${'#'.repeat(3000)}" | wc -c)"\nprintf 'sub\\n' | while read -r l; do echo "$l"; done\nexit 3\n`;
  const run = (shell: string[], command: string[], env: NodeJS.ProcessEnv = process.env) => {
    const [sh, ...rest] = command;
    expect(sh).toBe('/bin/sh');
    return spawnSync(shell[0], [...shell.slice(1), ...rest], { encoding: 'utf8', env });
  };

  it('a long script travels packed, a third of its size in the request URL, and the host\'s shell runs it as if sent as it is', () => {
    const collector = nodeCollectorScript();
    const inUrl = (command: string[]) => command.map((c) => encodeURIComponent(c).length).reduce((a, b) => a + b);
    expect(inUrl(hostCommand(collector))).toBeLessThan(inUrl(hostCommand(collector, false)) / 2.8);
    expect(hostCommand('echo short')).toEqual(['/bin/sh', '-c', 'echo short']);
    for (const shell of shells) {
      const plain = run(shell, hostCommand(script, false));
      const packed = run(shell, hostCommand(script));
      expect(packed.stdout).toBe('args 2 [a b c]\nset 3 y\n3000\nsub\n');
      expect(packed.status).toBe(3);
      expect(packed.stdout).toBe(plain.stdout);
      expect(packed.stderr).toBe('');
      expect(unpackFailed({ exitCode: packed.status ?? -1, stderr: packed.stderr })).toBe(false);
    }
  });

  /** A folder with base64 and wc but no gzip, for a PATH. */
  const withoutGzip = () => {
    const bin = mkdtempSync(join(tmpdir(), 'kc-nogzip-'));
    for (const tool of ['base64', 'wc']) symlinkSync(spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim(), join(bin, tool));
    return bin;
  };

  it('a host without gzip says it cannot unpack (exit 97 and why)', () => {
    const bin = withoutGzip();
    try {
      // Dash without gzip on its PATH (busybox's ash would find its own gzip applet).
      for (const shell of [['/bin/sh']]) {
        const out = run(shell, hostCommand(script), { PATH: bin });
        expect(out.status).toBe(97);
        expect(out.stdout).toBe('');
        expect(out.stderr).toContain(UNPACK_FAILED);
        expect(unpackFailed({ exitCode: out.status ?? -1, stderr: out.stderr })).toBe(true);
      }
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });

  it('a script the host cannot unpack is sent again as it is; its own output and exit code come back', async () => {
    const bin = withoutGzip();
    try {
      const script = `echo "${'x'.repeat(3000)}" | while read -r l; do echo "\${#l}"; done\nexit 4\n`;
      const sent: string[][] = [];
      const out = await runPacked(script, async (host) => {
        sent.push(host);
        const r = spawnSync('/bin/sh', host.slice(1), { encoding: 'utf8', env: { PATH: bin } });
        return { stdout: r.stdout, stderr: r.stderr, exitCode: r.status ?? -1 };
      });
      expect(sent.map((h) => h[2] === script)).toEqual([false, true]);
      expect(out).toEqual({ stdout: '3000\n', stderr: '', exitCode: 4 });
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });
});
