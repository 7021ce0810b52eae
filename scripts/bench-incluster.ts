// npm run bench:incluster — the in-cluster collection's fan-in: `kubecheck run node --in-cluster` on 5,000
// KWOK nodes of the real control plane (the DaemonSet, the pods through one watch, one exec per node,
// the namespace deleted), against the design's bar (< 60 s, < 500 MB in the kubecheck process, API
// requests bounded). KWOK runs no container: its exec emulation runs the command on this machine, and a
// stand-in `chroot` first on KWOK's PATH prints a real node's recorded collector output (with a fresh
// clock) — the only part not real. Then the same run end to end on the real cluster's real nodes, next to
// SSH. Numbers go to BENCHMARKS.md.
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { packageRoot } from '../src/core/assets.js';
import type { RunResult } from '../src/core/types.js';
import { KubeApi } from '../src/k8s/api.js';
import { procStat, writeBenchSection } from './bench-report.js';
import { createNodes } from './cluster-fixtures.js';
import { buildControlPlane, startCluster, stopCluster } from './controlplane.js';
import { REGISTRY, downRealCluster, upRealCluster } from './realcluster.js';
import { collectorDaemonSet, collectorNamespace } from '../src/incluster/manifests.js';
import { type RawCollectorPod, podOutcome } from '../src/incluster/pods.js';
import { removeLeftovers } from '../src/k8s/managed.js';

const ROOT = packageRoot();
const NODES = Number(process.env.BENCH_NODES ?? 5000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const WORK = '/tmp/kubecheck-bench-incluster';
/** A real worker's collector output, recorded in-cluster on the real cluster (test/real/incluster.test.ts). */
const RECORDED = join(ROOT, 'fixtures/collector/real-w1-incluster.txt');
const log = (m: string) => process.stderr.write(`[bench:incluster] ${m}\n`);

/**
 * Every pod's exec is answered on this machine, in WORK (KWOK's ClusterExec). KWOK stands in for 5,000
 * kubelets, each of which starts its one pod on its own: it plays 16 pods' stages at once instead of 4
 * (its other options as its defaults — a KwokConfiguration given here replaces them all).
 */
const KWOK_CONFIG = `apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterExec
metadata:
  name: kubecheck-collector
spec:
  execs:
  - local:
      workDir: ${WORK}
---
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokConfiguration
options:
  podPlayStageParallelism: 16
  nodePlayStageParallelism: 4
  nodeLeaseParallelism: 4
  podsOnNodeSyncParallelism: 1
  enableDebuggingHandlers: true
  enableProfilingHandler: true
  enableContentionProfiling: false
  enablePodsOnNodeSyncListPager: true
  enablePodsOnNodeSyncStreamWatch: false
`;

/**
 * The stand-in nodes' lease: renewed every 150 s instead of the kubelet's 10 s. 5,000 nodes renewing every
 * 10 s kept this machine's 2 cores ~73 % busy at rest (44 of 60 core-seconds in 30 s, measured), leaving
 * little of the machine to the rollout and the collection being measured; the controller-manager's grace
 * period is 10 minutes with it.
 */
const LEASE_SECONDS = 600;

const COMPONENTS = ['kube-apiserver', 'etcd', 'kube-controller-manager', 'kube-scheduler', 'kwok'] as const;

/** CPU seconds used so far by each control-plane process (its reaped children too: KWOK's exec stand-ins). */
function componentCpu(pids: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of COMPONENTS) {
    try {
      const { ownTicks, childTicks } = procStat(pids[name]);
      out[name] = (ownTicks + childTicks) / 100;
    } catch {
      out[name] = NaN;
    }
  }
  return out;
}

const cpuDelta = (a: Record<string, number>, b: Record<string, number>) => Object.fromEntries(COMPONENTS.map((c) => [c, b[c] - a[c]]));
const cpuText = (d: Record<string, number>) => COMPONENTS.map((c) => `${c} ${Math.round(d[c])}`).join(', ');

/**
 * The cluster alone: the collector's DaemonSet (the same manifest) rolled out to every node with nothing
 * exec'd, then its namespace removed the way kubecheck removes it — the floor under any in-cluster run.
 */
async function bareRollout(api: KubeApi): Promise<{ runningS: number; removedS: number }> {
  const namespace = `kubecheck-collect-bare${Date.now() % 100000}`;
  const spec = { namespace, image: 'bench.invalid/kubecheck/collector:bench' };
  const t0 = performance.now();
  await api.send('POST', '/api/v1/namespaces', collectorNamespace(spec));
  await api.send('POST', `/apis/apps/v1/namespaces/${namespace}/daemonsets`, collectorDaemonSet(spec));
  const running = new Set<string>();
  const limit = AbortSignal.timeout(20 * 60_000);
  for await (const e of api.listWatch<RawCollectorPod>(`/api/v1/namespaces/${namespace}/pods`, { signal: limit, timeoutSeconds: 60 })) {
    for (const pod of e.type === 'LIST' ? e.items : [e.object]) if (podOutcome(pod).state === 'running' && pod.metadata?.name) running.add(pod.metadata.name);
    if (running.size >= NODES) break;
  }
  const runningS = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const { stuck } = await removeLeftovers(api, [{ name: namespace, collector: true }], { timeoutMs: 15 * 60_000, signal: limit });
  if (stuck.length) throw new Error(`the bare rollout's namespace ${namespace} was not removed: ${stuck[0].holding}`);
  return { runningS, removedS: (performance.now() - t1) / 1000 };
}

/** The stand-ins KWOK's exec runs instead of the pod's commands: the collector's output, and a dial that connects. */
function writeStandIns(): void {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(join(WORK, 'bin'), { recursive: true });
  // The recorded output without its clock section: a fresh one goes first, as the real collector prints it.
  const body = readFileSync(RECORDED, 'utf8').replace(/^@@kc:clock\n[\s\S]*?@@kc:rc=\d+\n/, '');
  writeFileSync(join(WORK, 'collector-output.txt'), body);
  writeFileSync(join(WORK, 'bin', 'chroot'), `#!/bin/sh\n# KWOK's stand-in for \`chroot /host /bin/sh -c SCRIPT\`: a real node's recorded answer.\nprintf '@@kc:clock\\n%s\\n\\n@@kc:rc=0\\n' "$(date +%s.%N)"\nexec cat ${join(WORK, 'collector-output.txt')}\n`);
  writeFileSync(join(WORK, 'bin', 'kc-dial'), '#!/bin/sh\n# KWOK\'s stand-in for `kc-dial probe`: the registry answers.\necho "kc-dial: connected" >&2\n');
  for (const f of ['chroot', 'kc-dial']) chmodSync(join(WORK, 'bin', f), 0o755);
}

interface Stats {
  maxRssMiB: number;
  cpuMs: number;
  requests: Record<string, number>;
  inCluster?: Record<string, number>;
}

interface Measured {
  wallS: number;
  stats: Stats;
  exit: number;
  reached: number;
  targets: number;
  errors: string[];
}

async function measure(args: string[], json: string): Promise<Measured> {
  const started = performance.now();
  let stderr = '';
  let exit = 0;
  try {
    ({ stderr } = await promisify(execFile)(process.execPath, [join(ROOT, 'bin/kubecheck.js'), ...args, '--json', json, '-q'], { env: { ...process.env, KUBECHECK_STATS: '1', NO_COLOR: '1' }, maxBuffer: 1 << 28, timeout: 30 * 60_000 }));
  } catch (err: unknown) {
    const e = err as { code?: number; stderr?: string };
    exit = e.code ?? -1;
    stderr = e.stderr ?? '';
  }
  const wallS = (performance.now() - started) / 1000;
  const line = stderr.split('\n').find((l) => l.startsWith('KUBECHECK_STATS '));
  if (!line) throw new Error(`no stats from kubecheck (exit ${exit}): ${stderr.slice(-2000)}`);
  const stats = JSON.parse(line.slice('KUBECHECK_STATS '.length)) as Stats;
  log(`stats: ${line.slice('KUBECHECK_STATS '.length, 2000)}`);
  const said = stderr.split('\n').filter((l) => l && !l.startsWith('KUBECHECK_STATS ')).slice(-5);
  if (said.length) log(`kubecheck said: ${said.join(' | ').slice(0, 1000)}`);
  const run = JSON.parse(readFileSync(json, 'utf8')) as RunResult;
  const hosts = (run.targets ?? []).filter((t) => t.kind === 'host');
  const errors = [...new Set(run.results.filter((r) => r.status === 'error').map((r) => r.message.replace(/(?<!exit status )\d+/g, 'N')))].slice(0, 5);
  return { wallS, stats, exit, reached: hosts.filter((t) => t.reached).length, targets: hosts.length, errors };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const secs = (ms?: number) => (ms === undefined ? '–' : (ms / 1000).toFixed(1));

async function kwokPart(): Promise<string> {
  await buildControlPlane();
  writeStandIns();
  // KWOK on 2 cores renews 5,000 node leases slower than every 20 s: nodes would flap NotReady (a real
  // kubelet renews its own). The controller-manager's grace period is raised for this benchmark.
  const cluster = await startCluster({ kwokConfig: KWOK_CONFIG, kwokPath: join(WORK, 'bin'), nodeMonitorGracePeriod: '10m', nodeLeaseDurationSeconds: LEASE_SECONDS, steadyLeaders: true });
  try {
    const api = await KubeApi.connect({ kubeconfig: cluster.kubeconfig, timeoutMs: 120_000 });
    const t0 = Date.now();
    log(`creating ${NODES} KWOK nodes…`);
    await createNodes(api, Array.from({ length: NODES }, (_, i) => `node-${i}`), 64);
    // KWOK marks the nodes Ready (and keeps their leases) a little after they exist: measure on a Ready cluster.
    const deadline = Date.now() + 15 * 60_000;
    for (;;) {
      const list = await api.list<{ status?: { conditions?: { type: string; status: string }[] } }, boolean>('/api/v1/nodes', (n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true);
      const ready = list.ok ? list.items.filter(Boolean).length : 0;
      if (ready >= NODES) break;
      if (Date.now() > deadline) throw new Error(`only ${ready} of ${NODES} KWOK nodes Ready after 15 minutes`);
      log(`nodes Ready: ${ready}/${NODES}`);
      await new Promise((r) => setTimeout(r, 5000));
    }
    log(`nodes created and Ready in ${Math.round((Date.now() - t0) / 1000)} s`);
    // At rest: once the nodes' first leases and statuses are written (the first minute after Ready is not).
    await new Promise((r) => setTimeout(r, 60_000));
    const idle0 = componentCpu(cluster.pids);
    await new Promise((r) => setTimeout(r, 30_000));
    const idle = cpuDelta(idle0, componentCpu(cluster.pids));
    log(`at rest, 30 s: ${cpuText(idle)} CPU seconds`);
    const bare0 = componentCpu(cluster.pids);
    const bare = await bareRollout(api);
    const bareCpu = cpuDelta(bare0, componentCpu(cluster.pids));
    log(`the cluster alone: every pod running after ${bare.runningS.toFixed(1)} s, namespace removed in ${bare.removedS.toFixed(1)} s; CPU ${cpuText(bareCpu)}`);
    const runs: Measured[] = [];
    const cpus: Record<string, number>[] = [];
    for (let i = 0; i < RUNS; i++) {
      const cpu0 = componentCpu(cluster.pids);
      const m = await measure(['run', 'node', '--in-cluster', '--collector-image', 'bench.invalid/kubecheck/collector:bench', '--kubeconfig', cluster.kubeconfig, '--start-timeout', '600', '--timeout', '300', ...(process.env.BENCH_ARGS ? process.env.BENCH_ARGS.split(' ') : [])], join(WORK, `run-${i}.json`));
      log(`run ${i + 1}: ${m.wallS.toFixed(1)} s, ${m.stats.maxRssMiB} MiB, ${m.reached}/${m.targets} reached, exit ${m.exit}, stages ${JSON.stringify(m.stats.inCluster)}${m.errors.length ? `, errors: ${m.errors.join(' | ')}` : ''}`);
      runs.push(m);
      cpus.push(cpuDelta(cpu0, componentCpu(cluster.pids)));
      log(`run ${i + 1} cluster CPU: ${cpuText(cpus[i])}`);
    }
    const wall = median(runs.map((r) => r.wallS));
    const rss = Math.max(...runs.map((r) => r.stats.maxRssMiB));
    const last = runs[runs.length - 1];
    const requests = Object.entries(last.stats.requests).map(([k, v]) => `${k} ${v}`).join(', ');
    const gathered = median(runs.map((r) => (r.stats.inCluster?.lastFactsGathered ?? NaN) / 1000));
    const cpuCells = (d: Record<string, number>) => COMPONENTS.map((c) => `${Math.round(d[c])} s`).join(' | ');
    return [
      `Measured ${new Date().toISOString().slice(0, 10)} on this machine (2 cores): ${NODES} KWOK nodes on the real control plane (etcd, kube-apiserver, controller-manager with --kube-api-qps=200, scheduler); KWOK's exec emulation answers each node's collector exec with a real worker's recorded output; the nodes' leases last ${LEASE_SECONDS} s and KWOK plays 16 pods' stages at once. Reproduce: \`npm run bench:incluster\` (as root).`,
      '',
      '| run | wall | facts gathered | peak RSS (kubecheck) | CPU (kubecheck) | reached | DaemonSet created | first pod running | every pod running | namespace deletion | exit |',
      '|---|---|---|---|---|---|---|---|---|---|---|',
      `| the cluster alone (no kubecheck) | ${(bare.runningS + bare.removedS).toFixed(1)} s | – | – | – | – | – | – | ${bare.runningS.toFixed(1)} s | ${bare.removedS.toFixed(1)} s | – |`,
      ...runs.map((r, i) => {
        const t = r.stats.inCluster ?? {};
        return `| ${i + 1} | ${r.wallS.toFixed(1)} s | ${secs(t.lastFactsGathered)} s | ${r.stats.maxRssMiB} MiB | ${(r.stats.cpuMs / 1000).toFixed(1)} s | ${r.reached}/${r.targets} | ${secs(t.daemonSetCreated)} s | ${secs(t.firstPodRunning)} s | ${secs(t.everyPodSettled)} s | ${t.namespaceGone !== undefined && t.closeStarted !== undefined ? secs(t.namespaceGone - t.closeStarted) : '–'} s | ${r.exit} |`;
      }),
      '',
      'CPU of the control plane in the same stretches (KWOK with its exec stand-ins), against 30 s at rest:',
      '',
      `| | ${COMPONENTS.join(' | ')} |`,
      `|---|${COMPONENTS.map(() => '---').join('|')}|`,
      `| at rest, 30 s | ${cpuCells(idle)} |`,
      `| the cluster alone | ${cpuCells(bareCpu)} |`,
      ...cpus.map((d, i) => `| run ${i + 1} | ${cpuCells(d)} |`),
      '',
      `API requests by kubecheck in the last run: ${requests} (one exec per node, lists paginated, one watch of the namespace's pods).`,
      '',
      'Bars (design.md):',
      `- facts of 5,000 nodes gathered in < 60 s: ${gathered < 60 ? 'met' : 'NOT met'} (median ${gathered.toFixed(1)} s to the last node's facts; the whole run ${wall.toFixed(1)} s; the cluster alone takes ${bare.runningS.toFixed(1)} s to run the pods and ${bare.removedS.toFixed(1)} s to remove them)`,
      `- < 500 MB in the kubecheck process: ${rss < 500 ? 'met' : 'NOT met'} (${rss} MiB)`,
    ].join('\n');
  } finally {
    await stopCluster();
    rmSync(WORK, { recursive: true, force: true });
  }
}

async function realPart(): Promise<string> {
  const c = await upRealCluster();
  try {
    const rows: string[] = [];
    for (let i = 0; i < RUNS; i++) {
      const ssh = await measure(['run', 'node', '-i', c.inventory, '--kubeconfig', c.kubeconfig], join(c.dir, `bench-ssh-${i}.json`));
      const inCluster = await measure(['run', 'node', '--in-cluster', '--image-registry', REGISTRY, '--kubeconfig', c.kubeconfig], join(c.dir, `bench-incluster-${i}.json`));
      const t = inCluster.stats.inCluster ?? {};
      rows.push(`| ${i + 1} | ${ssh.wallS.toFixed(1)} s (exit ${ssh.exit}) | ${inCluster.wallS.toFixed(1)} s (exit ${inCluster.exit}) | ${secs(t.everyPodSettled)} s | ${t.namespaceGone !== undefined && t.closeStarted !== undefined ? secs(t.namespaceGone - t.closeStarted) : '–'} s |`);
      log(`real run ${i + 1}: ssh ${ssh.wallS.toFixed(1)} s, in-cluster ${inCluster.wallS.toFixed(1)} s`);
    }
    return [
      `The real cluster (cp1, w1, w2: kubeadm, real kubelet and containerd; collector image pulled from the local registry), \`run node\` over SSH and in-cluster, ${RUNS} runs each, interleaved:`,
      '',
      '| run | over SSH | in-cluster | pods running after | namespace deletion |',
      '|---|---|---|---|---|',
      ...rows,
    ].join('\n');
  } finally {
    await downRealCluster();
  }
}

const kwok = await kwokPart();
const real = process.env.BENCH_SKIP_REAL ? '' : await realPart();
writeBenchSection('incluster', [kwok, real].filter(Boolean).join('\n\n'));
log('BENCHMARKS.md updated');
