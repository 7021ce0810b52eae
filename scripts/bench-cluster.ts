// npm run bench:cluster — `kubecheck smoke` (no workloads) on 5,000 KWOK nodes and 50,000 pods: wall time,
// peak memory and list calls, against the design's bar (< 15 s, < 400 MB, each resource listed once).
import { execFile } from 'node:child_process';

import { join } from 'node:path';
import { promisify } from 'node:util';
import { createNodes, ensureNamespace, installSystem, createToken } from './cluster-fixtures.js';
import { buildControlPlane, startCluster, stopCluster } from './controlplane.js';
import { KubeApi } from '../src/k8s/api.js';
import { packageRoot } from '../src/core/assets.js';
import { writeBenchSection } from './bench-report.js';

const ROOT = packageRoot();
const NODES = Number(process.env.BENCH_NODES ?? 5000);
const PODS = Number(process.env.BENCH_PODS ?? 50000);
const log = (m: string) => process.stderr.write(`[bench:cluster] ${m}\n`);

async function createPods(api: KubeApi, count: number, nodes: number): Promise<void> {
  await ensureNamespace(api, 'bench');
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      await api.send('POST', '/api/v1/namespaces/bench/pods', {
        apiVersion: 'v1', kind: 'Pod',
        metadata: { name: `app-${i}`, labels: { app: `app-${i % 100}` } },
        spec: { nodeName: `node-${i % nodes}`, tolerations: [{ operator: 'Exists' }], containers: [{ name: 'app', image: 'registry.example/app:1' }] },
      });
      if (i % 5000 === 0) log(`pods: ${i}/${count}`);
    }
  };
  await Promise.all(Array.from({ length: 48 }, worker));
}

async function main(): Promise<void> {
  await buildControlPlane();
  const t0 = Date.now();
  const cluster = await startCluster();
  try {
    const api = await KubeApi.connect({ kubeconfig: cluster.kubeconfig, timeoutMs: 120_000 });
    log(`creating ${NODES} nodes…`);
    await createNodes(api, Array.from({ length: NODES }, (_, i) => `node-${i}`), 64);
    await installSystem(api);
    await createToken(api, { expiresInSeconds: 86_400 });
    // The DaemonSets make 2 pods per node; the rest are workload pods bound to nodes directly.
    const workload = Math.max(0, PODS - 2 * NODES);
    log(`creating ${workload} workload pods (the DaemonSets add ${2 * NODES})…`);
    await createPods(api, workload, NODES);
    const deadline = Date.now() + 15 * 60_000;
    let count = 0;
    while (Date.now() < deadline) {
      const page = await api.getJson<{ metadata: { remainingItemCount?: number }; items: unknown[] }>('/api/v1/pods?limit=1');
      count = (page.metadata.remainingItemCount ?? 0) + page.items.length;
      if (count >= PODS) break;
      log(`waiting for the DaemonSet pods: ${count}/${PODS}`);
      await new Promise((r) => setTimeout(r, 10_000));
    }
    // Let the cluster settle (KWOK running every pod, the DaemonSets counting them ready) so smoke is not
    // measured against an API server still busy with the setup.
    while (Date.now() < deadline) {
      const dss = await api.getJson<{ items: { status: { desiredNumberScheduled?: number; numberReady?: number } }[] }>('/apis/apps/v1/daemonsets');
      const pending = dss.items.reduce((n, d) => n + Math.max(0, (d.status.desiredNumberScheduled ?? 0) - (d.status.numberReady ?? 0)), 0);
      if (pending === 0) break;
      log(`waiting for DaemonSet pods to be ready: ${pending} left`);
      await new Promise((r) => setTimeout(r, 10_000));
    }
    const setupS = Math.round((Date.now() - t0) / 1000);
    log(`cluster ready in ${setupS} s with ${count} pods; measuring smoke…`);
    const runs: { wallS: number; maxRssMiB: number; cpuMs: number; listCalls: Record<string, number>; exit: number }[] = [];
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      let stderr = '';
      let exit = 0;
      try {
        ({ stderr } = await promisify(execFile)(process.execPath, [join(ROOT, 'bin/kubecheck.js'), 'smoke', '--kubeconfig', cluster.kubeconfig, '-q'], { env: { ...process.env, KUBECHECK_STATS: '1' }, maxBuffer: 1 << 26 }));
      } catch (err: unknown) {
        const e = err as { code?: number; stderr?: string };
        exit = e.code ?? -1;
        stderr = e.stderr ?? '';
      }
      const wallS = (performance.now() - started) / 1000;
      const stats = JSON.parse(/KUBECHECK_STATS (.*)/.exec(stderr)?.[1] ?? '{}') as { maxRssMiB: number; cpuMs: number; listCalls: Record<string, number> };
      runs.push({ wallS, exit, ...stats });
      log(`smoke ${i + 1}: ${wallS.toFixed(2)} s, peak ${stats.maxRssMiB} MiB, exit ${exit}`);
    }
    const median = <T>(xs: T[], f: (x: T) => number) => xs.map(f).sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const wall = median(runs, (r) => r.wallS);
    const rss = Math.max(...runs.map((r) => r.maxRssMiB));
    const calls = runs[0].listCalls;
    const section = [
      '<!-- bench:cluster:begin -->',
      `Measured ${new Date().toISOString().slice(0, 10)} on this machine: ${NODES} KWOK nodes, ${count} pods (${2 * NODES} from the kube-proxy and kube-flannel DaemonSets, the rest workload pods), real etcd/kube-apiserver/controller-manager/scheduler ${cluster.server}. Cluster set up in ${setupS} s. Reproduce: \`npm run bench:cluster\`.`,
      '',
      '| run | wall | peak RSS | CPU | exit |',
      '|---|---|---|---|---|',
      ...runs.map((r, i) => `| ${i + 1} | ${r.wallS.toFixed(2)} s | ${r.maxRssMiB} MiB | ${r.cpuMs} ms | ${r.exit} |`),
      '',
      `List calls per run (each resource once, paginated): ${Object.entries(calls).map(([k, v]) => `\`${k}\` ×${v}`).join(', ')}.`,
      '',
      'Bars (design.md):',
      `- < 15 s: ${wall < 15 ? 'met' : 'NOT met'} (median ${wall.toFixed(2)} s)`,
      `- < 400 MB peak memory: ${rss * 1.048576 < 400 ? 'met' : 'NOT met'} (${rss} MiB)`,
      `- each resource listed once: ${Object.values(calls).every((v) => v === 1) ? 'met' : 'NOT met'}`,
      '<!-- bench:cluster:end -->',
    ].join('\n');
    writeBenchSection('cluster', section);
    console.log(section);
  } finally {
    await stopCluster();
  }
}

await main();
