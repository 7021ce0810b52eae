// The workload scenarios on real containers: real nginx answering through real kube-proxy rules, the
// real kubelet refreshing a ConfigMap volume, a Secret read from a real container's env — every image
// pulled through --image-registry from the local registry, as an air-gapped site pulls through its mirror.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUSYBOX_TAG, NGINX_CANARY_TAG, NGINX_TAG } from '../../scripts/cluster-images.js';
import { onNode } from '../../scripts/realcluster.js';
import type { RunResult } from '../../src/core/types.js';
import { kubecheck } from '../cluster/helpers.js';
import { REGISTRY, type Real, realCluster } from './helpers.js';

let r: Real;
let suite: string;
beforeAll(async () => {
  r = await realCluster();
  // The locally built images carry Debian's versions: nginx 1.22.1 (and a second build as the canary), busybox 1.35.
  suite = join(r.cluster.dir, 'workloads.yaml');
  writeFileSync(suite, [
    'name: real-workloads',
    'description: the workload scenarios on the real cluster',
    'phase: post',
    'checks:',
    `  - {id: workload.canary, params: {stableImage: "nginx:${NGINX_TAG}", canaryImage: "nginx:${NGINX_CANARY_TAG}", probeImage: "busybox:${BUSYBOX_TAG}", timeouts: {rollout: 120, traffic: 60}}}`,
    `  - {id: workload.configmap-reload, params: {image: "busybox:${BUSYBOX_TAG}", propagationWindow: 150, timeouts: {ready: 120}}}`,
    `  - {id: workload.secret-restart, params: {image: "busybox:${BUSYBOX_TAG}", timeouts: {rollout: 120}}}`,
    'workloads: {imagePullPolicy: IfNotPresent, requests: {cpu: 10m, memory: 16Mi}, cleanupTimeout: 120}',
    '',
  ].join('\n'));
}, 900_000);

describe('workload scenarios on real containers', { timeout: 420_000 }, () => {
  it('all three pass, with real traffic, a real volume refresh and a real restart', async () => {
    const json = join(r.cluster.dir, 'workloads.json');
    const out = await kubecheck('run', suite, '--kubeconfig', r.cluster.kubeconfig, '--image-registry', REGISTRY, '--json', json);
    const run = JSON.parse(readFileSync(json, 'utf8')) as RunResult;
    const result = (id: string) => run.results.find((x) => x.check === id)!;
    expect(run.results.map((x) => [x.check, x.status]), out.stdout).toEqual([['workload.canary', 'pass'], ['workload.configmap-reload', 'pass'], ['workload.secret-restart', 'pass']]);
    expect(out.code).toBe(0);
    expect(run.parameters?.imageRegistry).toBe(REGISTRY);

    // Each answer was a real nginx's $hostname (its pod name); the split is what kube-proxy's rules made.
    const canary = result('workload.canary');
    const split = /canary answered (\d+) of 100 \((\d+)%/.exec(canary.message);
    expect(split, canary.message).not.toBeNull();
    expect(Math.abs(Number(split![2]) - 25)).toBeLessThanOrEqual(15);
    expect(canary.steps?.map((s) => s.name)).toContain('every pod behind the Service answers');
    expect(canary.message).toMatch(/after promotion all 20 requests answered by the canary/);

    // The real kubelet refreshes a ConfigMap volume at its next sync of the pod: anywhere from at once to
    // about a minute and a half; the scenario measures it.
    const cm = result('workload.configmap-reload');
    const delay = Number(/volume file updated ([\d.]+) s after the change/.exec(cm.message)?.[1]);
    expect(delay, cm.message).toBeGreaterThanOrEqual(0);
    expect(delay, cm.message).toBeLessThanOrEqual(150);
    expect(cm.message).toContain('subPath and env kept the old value');

    expect(result('workload.secret-restart').message).toMatch(/^running pods kept the old value; rollout restart completed in [\d.]+ s and the 2 new pods see the new value$/);

    // The nodes pulled every image from the mirror, as --image-registry rewrote it.
    const images = (await Promise.all(['w1', 'w2'].map((n) => onNode(r.node(n), 'crictl --runtime-endpoint unix:///run/containerd/containerd.sock images -o json')))).join('\n');
    for (const image of [`library/nginx:${NGINX_TAG}`, `library/nginx:${NGINX_CANARY_TAG}`, `library/busybox:${BUSYBOX_TAG}`]) expect(images).toContain(`${REGISTRY}/${image}`);
  });

  it('without the mirror, an air-gapped cluster cannot pull: the scenario fails at its rollout with the pull error', async () => {
    const json = join(r.cluster.dir, 'no-mirror.json');
    const quick = join(r.cluster.dir, 'no-mirror.yaml');
    writeFileSync(quick, `name: no-mirror\nphase: post\nchecks:\n  - {id: workload.secret-restart, params: {image: "busybox:${BUSYBOX_TAG}", timeouts: {rollout: 25}}}\nworkloads: {imagePullPolicy: Always}\n`);
    const out = await kubecheck('run', quick, '--kubeconfig', r.cluster.kubeconfig, '--json', json);
    const res = (JSON.parse(readFileSync(json, 'utf8')) as RunResult).results[0];
    expect(out.code).toBe(1);
    expect(res).toMatchObject({ status: 'fail', code: 'workload.secret-restart/step-failed' });
    expect(res.message).toMatch(/^step "Deployment available" failed/);
    expect(Object.values(res.evidence ?? {}).join('\n')).toMatch(/ErrImagePull|ImagePullBackOff|Failed to pull image "busybox:/);
  });
});
