// What `preflight`, `smoke`, `run` and `doctor` share: hosts and cluster from the options, the reports
// before and after the run, and the exit code.
import { CHECKS, findCheck } from '../../checks/index.js';
import { createProgress } from '../../reporters/progress.js';
import { FleetProber } from '../collectors/fleet-probes.js';
import { collectFromHost } from '../collectors/host.js';
import type { Transport } from '../transports/types.js';
import { packageVersion } from '../core/assets.js';
import { compareRuns, loadReport } from '../core/baseline.js';
import { exitCodeOf, runSuite, type ClusterSource } from '../core/runner.js';
import type { RunResult, Suite, SuiteEntry } from '../core/types.js';
import { hostsFrom, type HostSource } from '../inventory/targets.js';
import type { KubeApi } from '../k8s/api.js';
import { loadSuite, resolveSuitePath, selectChecks } from '../suites/load.js';
import type { HostOptions, RunCommandOptions } from './options.js';
import { checkReportPaths, emitReports } from './output.js';
import { promptSecret } from './prompt.js';
import { inClusterSource } from './in-cluster.js';

/** The hosts named by --local, -i or --hosts, each able to open its one connection. */
export function hostSource(options: HostOptions): Promise<HostSource> {
  return hostsFrom(options, { askPassword: () => promptSecret('SSH password: '), warn: (line) => process.stderr.write(`${line}\n`) });
}

/** The cluster named by --kubeconfig/--context (or KUBECONFIG, ~/.kube/config, in-cluster); client-node loads only here. */
export async function connectApi(options: HostOptions): Promise<KubeApi> {
  const { KubeApi } = await import('../k8s/api.js');
  return KubeApi.connect({ ...(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {}), ...(options.context ? { context: options.context } : {}) });
}

async function clusterFrom(api: KubeApi, options: HostOptions): Promise<ClusterSource<KubeApi> & { listCalls: () => Record<string, number>; requests: () => Record<string, number> }> {
  const { takeSnapshot } = await import('../k8s/snapshot.js');
  return { api, snapshot: (signal, scope) => takeSnapshot(api, { signal, ...(scope ? { scope } : {}), ...(options.profile ? { profile: options.profile } : {}) }), listCalls: () => Object.fromEntries(api.listCalls), requests: () => Object.fromEntries(api.requestCounts) };
}

/** Workload scenarios run with --workloads, or when --only picks them; `run` runs the suite as written. */
function withoutWorkloads(command: string, entries: SuiteEntry[], options: RunCommandOptions): SuiteEntry[] {
  if (command !== 'smoke' || options.workloads || options.only?.length) return entries;
  return entries.filter((e) => findCheck(e.id)?.kind !== 'workload');
}

/** KUBECHECK_STATS=1: the peaks of the process's memory by kind (JS heap, external, buffers), sampled. */
const peaks = { heapUsedMiB: 0, externalMiB: 0, arrayBuffersMiB: 0 };
function sampleMemory(): () => void {
  if (!process.env.KUBECHECK_STATS) return () => undefined;
  const sample = () => {
    const m = process.memoryUsage();
    peaks.heapUsedMiB = Math.max(peaks.heapUsedMiB, Math.round(m.heapUsed / 2 ** 20));
    peaks.externalMiB = Math.max(peaks.externalMiB, Math.round(m.external / 2 ** 20));
    peaks.arrayBuffersMiB = Math.max(peaks.arrayBuffersMiB, Math.round(m.arrayBuffers / 2 ** 20));
  };
  const timer = setInterval(sample, 250);
  timer.unref();
  return () => {
    sample();
    clearInterval(timer);
  };
}

/** KUBECHECK_STATS=1: what a run cost (for the benchmarks), on stderr as one JSON line. */
function printStats(extra: Record<string, unknown>): void {
  if (!process.env.KUBECHECK_STATS) return;
  const usage = process.resourceUsage();
  process.stderr.write(`KUBECHECK_STATS ${JSON.stringify({ maxRssMiB: Math.round(usage.maxRSS / 1024), cpuMs: Math.round((usage.userCPUTime + usage.systemCPUTime) / 1000), ...peaks, ...extra })}\n`);
}

/** Before a run: the report paths are writable and the baseline (if any) is a report. Fails fast, exit 2. */
export function prepareReports(options: RunCommandOptions): RunResult | undefined {
  checkReportPaths(options);
  return options.baseline ? loadReport(options.baseline, '--baseline') : undefined;
}

/** Adds the comparison with a baseline to the run (changed results only: the report stays small). */
function attachBaseline(run: RunResult, baseline: RunResult, file: string): void {
  const cmp = compareRuns(baseline, run, file);
  run.baseline = {
    file,
    counts: cmp.counts,
    changes: cmp.changes.filter((c) => c.kind !== 'unchanged' && c.kind !== 'added').map(({ remediation: _r, ...c }) => c),
    addedTargets: cmp.addedTargets,
    removedTargets: cmp.removedTargets,
    regressed: cmp.regressed,
  };
}

/** After a run: compare with the baseline, write the reports, return the exit code. */
export function finishRun(run: RunResult, options: RunCommandOptions, baseline: RunResult | undefined): number {
  if (baseline && options.baseline) attachBaseline(run, baseline, options.baseline);
  emitReports(run, options);
  return exitCodeOf(run, options.failOn ?? 'fail');
}

/** smoke --nodes: the smoke suite and then the node suite's checks, one report (both are post-install). */
function withNodeSuite(suite: Suite): Suite {
  const node = loadSuite(resolveSuitePath('node'));
  const ids = new Set(suite.checks.map((c) => c.id));
  return { ...suite, name: `${suite.name}+node`, checks: [...suite.checks, ...node.checks.filter((c) => !ids.has(c.id))] };
}

/** `preflight`, `smoke` and `run`: a suite over the hosts and the cluster the options name. */
export async function runCommand(command: string, suiteRef: string, options: RunCommandOptions, signal: AbortSignal): Promise<number> {
  const stopSampling = sampleMemory();
  const loaded = loadSuite(resolveSuitePath(suiteRef));
  const suite = command === 'smoke' && options.nodes ? withNodeSuite(loaded) : loaded;
  const entries = withoutWorkloads(command, selectChecks(suite.checks, options.only ?? [], options.skip ?? []), options);
  const baseline = prepareReports(options);
  const kinds = new Set(entries.map((e) => findCheck(e.id)?.kind));
  const needsHosts = kinds.has('node') || kinds.has('fleet');
  const inCluster = needsHosts && (options.inCluster === true || (command === 'smoke' && options.nodes === true));
  // Host checks use the cluster too when one is named (each node's podCIDR for cni.flannel-subnet).
  const namedCluster = options.kubeconfig !== undefined || options.context !== undefined || inCluster;
  const api = kinds.has('cluster') || kinds.has('workload') || (needsHosts && namedCluster) ? await connectApi(options) : undefined;
  const cluster = api ? await clusterFrom(api, options) : undefined;
  const workloadSettings = { ...(suite.workloads ?? {}), ...(options.imageRegistry ? { imageRegistry: options.imageRegistry } : {}) };
  const collection = inCluster && api ? await inClusterSource(options, api, signal, { quiet: options.quiet === true, inventory: hostSource }) : undefined;
  const source = collection ?? (needsHosts ? await hostSource(options) : { hosts: [], close: async () => undefined });
  const showProgress = !options.quiet && (options.output ?? 'text') === 'text';
  const progress = await createProgress({ enabled: showProgress });
  const parameters: Record<string, string> = { suite: suite.name, phase: options.phase ?? suite.phase ?? 'pre' };
  if (options.role) parameters.role = options.role;
  if (kinds.has('workload') && workloadSettings.imageRegistry) parameters.imageRegistry = workloadSettings.imageRegistry;
  // Connections kept open after collection for the probes between hosts (fleet.reachability), then closed.
  const kept = new Map<string, Transport>();
  // Each host's probe starts as soon as its facts are in, and goes once every host's are.
  const prober = new FleetProber(kept);
  const closeKept = async () => {
    await Promise.all([...kept.values()].map((t) => t.close().catch(() => undefined)));
    kept.clear();
  };
  // The registries and mirrors are dialled from each host only for node.registry, the one check that reads them.
  const registryEntries = entries.filter((e) => e.id === 'node.registry');
  const registries = registryEntries.flatMap((e) => (typeof e.params.registry === 'string' ? [e.params.registry] : []));
  let code: number;
  try {
    const run = await runSuite({
      command,
      checks: CHECKS,
      collect: (host, o) => collectFromHost(host, {
        ...o,
        ...(options.profile ? { profile: options.profile } : {}),
        ...(registryEntries.length ? { endpoints: registries } : {}),
        ...(o.keepOpen ? { keep: (t: Transport) => kept.set(host.name, t) } : {}),
      }),
      beginProbe: (member, fleet, probeKinds, s) => prober.begin(member, fleet, probeKinds, s),
      probeFleet: async (members, probeKinds, s) => {
        try {
          return await prober.run(members, probeKinds, s);
        } finally {
          await closeKept();
        }
      },
      suite,
      entries,
      hosts: source.hosts,
      ...(cluster ? { cluster } : {}),
      ...(options.retries ? { retries: options.retries } : {}),
      ...(kinds.has('workload') ? { workloadSettings } : {}),
      ...(options.phase ? { phase: options.phase } : {}),
      ...(options.role ? { roles: [options.role] } : {}),
      // In-cluster: every node waits for its pod at once; the execs themselves are limited to --concurrency.
      ...(collection ? { concurrency: Math.max(1, collection.hosts.length), targetTimeoutMs: collection.targetTimeoutMs } : {}),
      ...(!collection && options.concurrency ? { concurrency: options.concurrency } : {}),
      ...(!collection && options.timeout ? { targetTimeoutMs: options.timeout * 1000 } : {}),
      signal,
      version: packageVersion(),
      parameters,
      onProgress: (e) => progress.update(e),
    });
    progress.stop();
    code = finishRun(run, options, baseline);
  } finally {
    progress.stop();
    await closeKept();
    // In-cluster: the collector's namespace is deleted here, whatever happened.
    await source.close();
  }
  stopSampling();
  printStats({ listCalls: cluster?.listCalls() ?? {}, requests: cluster?.requests() ?? {}, ...(collection ? { inCluster: collection.collection.timeline() } : {}) });
  return code;
}

/** What every command registers with: the run's signal, and how it reports its exit code. */
export interface CommandContext {
  signal: AbortSignal;
  setCode(code: number): void;
}
