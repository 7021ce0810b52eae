// The CLI is a thin shell over the library: parse arguments, call the library, render, return the exit code.
import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import { Command, CommanderError, Option } from 'commander';
import { CHECKS, findCheck } from '../checks/index.js';
import { createProgress } from '../reporters/progress.js';
import { checkReportPaths, emitReports, writeReport, type OutputOptions } from './cli/output.js';
import { packageVersion } from './core/assets.js';
import { InputError, formatProblem } from './core/errors.js';
import { GENERIC_CODES } from './core/findings.js';
import { DEFAULT_CONCURRENCY, exitCodeOf, runSuite, type ClusterSource, type FailOn, type HostTarget } from './core/runner.js';
import type { Phase, Role, RunResult } from './core/types.js';
import { compareRuns, loadReport } from './core/baseline.js';
import { renderDiffJson, renderDiffJunit, renderDiffText } from '../reporters/diff.js';
import { loadSuite, resolveSuitePath, selectChecks, type SuiteEntry } from './suites/load.js';
import { hostsFromList, limitHosts, loadInventory, type Inventory } from './inventory/load.js';
import { LocalTransport } from './transports/local.js';
import { SshConnector, type HostKeyPolicy } from './transports/ssh.js';
import { FIXES } from './fixes/fixes.js';
import { runFix } from './fixes/run.js';
import { promptSecret } from './cli/prompt.js';

interface HostOptions {
  kubeconfig?: string;
  context?: string;
  retries?: number;
  local?: boolean;
  inventory?: string;
  hosts?: string;
  limit?: string[];
  user?: string;
  identityFile?: string;
  hostKeyPolicy?: HostKeyPolicy;
  knownHosts?: string;
  askPass?: boolean;
  connectTimeout?: number;
  role?: Role;
  phase?: Phase;
  only?: string[];
  skip?: string[];
  failOn?: FailOn;
  concurrency?: number;
  timeout?: number;
}

type RunCommandOptions = HostOptions & OutputOptions & { baseline?: string; workloads?: boolean; imageRegistry?: string };

const list = (value: string, previous: string[] = []) => [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];
const positiveInt = (flag: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InputError([{ message: `${flag} takes a whole number ≥ 1, not '${value}'` }]);
  return n;
};

function addOutputOptions(cmd: Command): Command {
  return cmd
    .option('--only <ids>', 'run only these checks (ids or globs, comma-separated)', list)
    .option('--skip <ids>', 'skip these checks (ids or globs, comma-separated)', list)
    .option('--json <file>', 'write the JSON report to FILE')
    .option('--junit <file>', 'write the JUnit XML report to FILE')
    .addOption(new Option('-o, --output <format>', 'what to print on stdout').choices(['text', 'json', 'junit']).default('text'))
    .option('-q, --quiet', 'print only the summary line (no progress)')
    .option('--no-color', 'no colours (also NO_COLOR=1)')
    .option('-v, --verbose', 'list passing checks too')
    .addOption(new Option('--fail-on <level>', 'lowest status that fails the run').choices(['fail', 'warn']).default('fail'))
    .option('--baseline <file>', 'compare with a saved JSON report: fail only on what is new or got worse')
    .option('--save-baseline <file>', 'save this run\'s JSON report as the next baseline');
}

function addWorkloadOptions(cmd: Command): Command {
  return cmd
    .option('--image-registry <registry>', 'pull the scenarios\' images through this mirror (nginx:1.22 → REGISTRY/library/nginx:1.22)');
}

function addKubeconfigOptions(cmd: Command): Command {
  return cmd
    .option('--kubeconfig <file>', 'kubeconfig for cluster checks (default: KUBECONFIG, ~/.kube/config, or in-cluster)')
    .option('--context <name>', 'kubeconfig context');
}

function addClusterOptions(cmd: Command): Command {
  return addKubeconfigOptions(cmd)
    .option('--retries <n>', 'retry failing cluster and workload checks N times on fresh data (never host facts)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new InputError([{ message: `--retries takes a whole number ≥ 0, not '${v}'` }]);
      return n;
    });
}

function addHostOptions(cmd: Command): Command {
  return cmd
    .option('--local', 'check this machine')
    .option('-i, --inventory <file>', 'hosts to check over SSH: kubecheck, Ansible YAML or INI inventory (kubespray groups → roles)')
    .option('--hosts <list>', 'hosts to check over SSH: user@addr[:port],… (names are the addresses)')
    .option('--limit <names>', 'only these hosts: names, addresses, roles or globs, comma-separated', list)
    .option('--user <user>', 'SSH user for --hosts entries without one (default root)')
    .option('--identity-file <file>', 'private key for hosts whose inventory names none (like ssh -i)')
    .addOption(new Option('--host-key-policy <policy>', 'override the inventory: strict (default), accept-new or off').choices(['strict', 'accept-new', 'off']))
    .option('--known-hosts <file>', 'known_hosts file (default ~/.ssh/known_hosts)')
    .option('--ask-pass', 'prompt once for an SSH password (or set KUBECHECK_SSH_PASSWORD)')
    .option('--connect-timeout <seconds>', 'SSH connect timeout (default 10)', positiveInt('--connect-timeout'))
    .addOption(new Option('--role <role>', 'judge the hosts as this role').choices(['control-plane', 'worker', 'etcd']))
    .addOption(new Option('--phase <phase>', 'pre-install (ports must be free) or post-install (ports held by their components)').choices(['pre', 'post']))
    .option('--concurrency <n>', `hosts checked at once (default ${DEFAULT_CONCURRENCY})`, positiveInt('--concurrency'))
    .option('--timeout <seconds>', 'time for one host to connect and report (default 60)', positiveInt('--timeout'));
}

interface HostSource {
  hosts: HostTarget[];
  close(): Promise<void>;
}

async function hostsFrom(options: HostOptions): Promise<HostSource> {
  const sources = [options.local, options.inventory, options.hosts].filter(Boolean).length;
  if (sources > 1) throw new InputError([{ message: 'give one of --local, -i INVENTORY or --hosts' }]);
  if (options.local) {
    const name = hostname();
    return { hosts: [{ name, roles: options.role ? [options.role] : ['control-plane'], open: async () => new LocalTransport(name) }], close: async () => undefined };
  }
  let inventory: Inventory;
  if (options.inventory) inventory = loadInventory(options.inventory);
  else if (options.hosts) inventory = hostsFromList(options.hosts, { ...(options.user ? { user: options.user } : {}), ...(options.role ? { role: options.role } : {}) });
  else throw new InputError([{ message: 'no hosts to check: use --local for this machine, -i INVENTORY or --hosts user@addr,…' }]);
  for (const w of inventory.warnings) process.stderr.write(`kubecheck: ${formatProblem(w)}\n`);
  const chosen = limitHosts(inventory.hosts, options.limit ?? []);
  const password = process.env.KUBECHECK_SSH_PASSWORD ?? (options.askPass ? await promptSecret('SSH password: ') : undefined);
  const connector = new SshConnector({
    connectTimeoutMs: (options.connectTimeout ?? 10) * 1000,
    ...(password !== undefined ? { password } : {}),
    ...(process.env.KUBECHECK_SSH_PASSPHRASE ? { passphrase: process.env.KUBECHECK_SSH_PASSPHRASE } : {}),
    ...(process.env.SSH_AUTH_SOCK ? { agent: process.env.SSH_AUTH_SOCK } : {}),
  });
  return {
    hosts: chosen.map((h) => ({
      name: h.name,
      address: h.host,
      roles: h.roles,
      open: (signal: AbortSignal) => connector.openTransport({
        ...(options.identityFile ? { identityFile: options.identityFile } : {}),
        ...h,
        ...(options.hostKeyPolicy ? { hostKeyPolicy: options.hostKeyPolicy } : {}),
        ...(options.knownHosts ? { knownHostsFile: options.knownHosts } : {}),
      }, signal),
    })),
    close: () => connector.close(),
  };
}

/** The cluster named by --kubeconfig/--context (or KUBECONFIG, ~/.kube/config, in-cluster); client-node loads only here. */
async function connectApi(options: HostOptions) {
  const { KubeApi } = await import('./k8s/api.js');
  return KubeApi.connect({ ...(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {}), ...(options.context ? { context: options.context } : {}) });
}

async function clusterFrom(options: HostOptions): Promise<ClusterSource & { listCalls: () => Record<string, number> }> {
  const { takeSnapshot } = await import('./k8s/snapshot.js');
  const api = await connectApi(options);
  return { api, snapshot: (signal) => takeSnapshot(api, { signal }), listCalls: () => Object.fromEntries(api.listCalls) };
}

/** Workload scenarios run with --workloads, or when --only picks them; `run` runs the suite as written. */
function withoutWorkloads(command: string, entries: SuiteEntry[], options: RunCommandOptions): SuiteEntry[] {
  if (command !== 'smoke' || options.workloads || options.only?.length) return entries;
  return entries.filter((e) => findCheck(e.id)?.kind !== 'workload');
}

/** KUBECHECK_STATS=1: what a run cost (for the benchmarks), on stderr as one JSON line. */
function printStats(extra: Record<string, unknown>): void {
  if (!process.env.KUBECHECK_STATS) return;
  const usage = process.resourceUsage();
  process.stderr.write(`KUBECHECK_STATS ${JSON.stringify({ maxRssMiB: Math.round(usage.maxRSS / 1024), cpuMs: Math.round((usage.userCPUTime + usage.systemCPUTime) / 1000), ...extra })}\n`);
}

/** Before a run: the report paths are writable and the baseline (if any) is a report. Fails fast, exit 2. */
function prepareReports(options: RunCommandOptions): RunResult | undefined {
  checkReportPaths(options);
  return options.baseline ? loadReport(options.baseline, '--baseline') : undefined;
}

/** After a run: compare with the baseline, write the reports, return the exit code. */
function finishRun(run: RunResult, options: RunCommandOptions, baseline: RunResult | undefined): number {
  if (baseline && options.baseline) attachBaseline(run, baseline, options.baseline);
  emitReports(run, options);
  return exitCodeOf(run, options.failOn ?? 'fail');
}

async function runCommand(command: string, suiteRef: string, options: RunCommandOptions, signal: AbortSignal): Promise<number> {
  const suite = loadSuite(resolveSuitePath(suiteRef));
  const entries = withoutWorkloads(command, selectChecks(suite.checks, options.only ?? [], options.skip ?? []), options);
  const baseline = prepareReports(options);
  const kinds = new Set(entries.map((e) => findCheck(e.id)?.kind));
  const needsHosts = kinds.has('node') || kinds.has('fleet');
  // Host checks use the cluster too when one is named (each node's podCIDR for cni.flannel-subnet).
  const namedCluster = options.kubeconfig !== undefined || options.context !== undefined;
  const cluster = kinds.has('cluster') || kinds.has('workload') || (needsHosts && namedCluster) ? await clusterFrom(options) : undefined;
  const workloadSettings = { ...(suite.workloads ?? {}), ...(options.imageRegistry ? { imageRegistry: options.imageRegistry } : {}) };
  const source = needsHosts ? await hostsFrom(options) : { hosts: [], close: async () => undefined };
  const hosts = source.hosts;
  const showProgress = !options.quiet && (options.output ?? 'text') === 'text';
  const progress = await createProgress({ enabled: showProgress });
  const parameters: Record<string, string> = { suite: suite.name, phase: options.phase ?? suite.phase ?? 'pre' };
  if (options.role) parameters.role = options.role;
  if (kinds.has('workload') && workloadSettings.imageRegistry) parameters.imageRegistry = workloadSettings.imageRegistry;
  try {
    const run = await runSuite({
      command,
      suite,
      entries,
      hosts,
      ...(cluster ? { cluster } : {}),
      ...(options.retries ? { retries: options.retries } : {}),
      ...(kinds.has('workload') ? { workloadSettings } : {}),
      ...(options.phase ? { phase: options.phase } : {}),
      ...(options.role ? { roles: [options.role] } : {}),
      ...(options.concurrency ? { concurrency: options.concurrency } : {}),
      ...(options.timeout ? { targetTimeoutMs: options.timeout * 1000 } : {}),
      signal,
      version: packageVersion(),
      parameters,
      onProgress: (e) => progress.update(e),
    });
    progress.stop();
    const code = finishRun(run, options, baseline);
    printStats({ listCalls: cluster?.listCalls() ?? {} });
    return code;
  } finally {
    progress.stop();
    await source.close();
  }
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

function catalogue(): string {
  const needs = { node: 'host facts', fleet: 'all hosts\' facts', cluster: 'cluster API', workload: 'cluster (writes)' } as const;
  const rows = CHECKS.map((c) => [c.id, c.area, needs[c.kind], c.title]);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length), ['ID', 'AREA', 'NEEDS'][i].length));
  const fmt = (r: string[]) => r.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]) : cell)).join('  ');
  return [fmt(['ID', 'AREA', 'NEEDS', 'TITLE']), ...rows.map(fmt)].join('\n') + '\n';
}

/** `kubecheck explain ID` (or ID/CODE): why a check matters, its fix, its codes and the doctor causes that read them. */
async function explain(ref: string): Promise<string> {
  const [id, wanted] = ref.split('/');
  const check = findCheck(id);
  if (!check) {
    throw new InputError([{ message: `unknown check id '${id}'; \`kubecheck list\` shows them all` }]);
  }
  const all = { ...check.codes, ...GENERIC_CODES };
  if (wanted !== undefined && !(wanted in all)) {
    throw new InputError([{ message: `${id} has no code '${wanted}' (it has: ${Object.keys(check.codes).join(', ')})` }]);
  }
  const { RULES } = await import('./doctor/rules/index.js');
  const causes = (code: string) => RULES.filter((r) => r.codes.includes(`${id}/${code}`)).map((r) => r.cause);
  const width = Math.max(...Object.keys(check.codes).map((k) => `${id}/${k}`.length));
  const codeLines = Object.entries(check.codes).map(([k, v]) => {
    const c = causes(k);
    return `  ${`${id}/${k}`.padEnd(width)}  ${v}${c.length ? ` (doctor: ${c.join(', ')})` : ''}`;
  });
  const params = check.params && (check.params as { properties?: Record<string, { description?: string; type?: string }> }).properties;
  return [
    ...(wanted !== undefined ? [`${id}/${wanted}: ${all[wanted]}${causes(wanted).length ? `; the doctor reads it as ${causes(wanted).join(', ')}` : ''}`, ''] : []),
    `${check.id} — ${check.title}`,
    '',
    `Area: ${check.area}    Runs on: ${{ node: 'each host (node collector facts)', fleet: 'all hosts together (fleet)', cluster: 'the cluster, through its API', workload: 'the cluster: creates a namespace of its own, runs the scenario, deletes it' }[check.kind]}`,
    '',
    'Why it matters:',
    `  ${check.why}`,
    '',
    'Fix:',
    ...check.remediation.split('\n').map((l) => `  ${l}`),
    '',
    'Finding codes:',
    ...codeLines,
    `  (and the generic ${Object.keys(GENERIC_CODES).join(', ')})`,
    ...(params ? ['', 'Params (in a suite file):', ...Object.entries(params).map(([k, v]) => `  ${k} (${v.type ?? 'value'})${v.description ? `: ${v.description}` : ''}`)] : []),
  ].join('\n') + '\n';
}

export function buildProgram(signal: AbortSignal, setCode: (code: number) => void): Command {
  const program = new Command('kubecheck')
    .description('Conformance and diagnostics for Kubernetes clusters on plain Linux hosts')
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError('(kubecheck --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .addHelpText('after', `
Examples:
  kubecheck preflight --local                       audit this machine before kubeadm init
  kubecheck preflight --local --role worker         … before kubeadm join as a worker
  kubecheck preflight --local --phase post          after install: ports held by the right components
  kubecheck preflight -i hosts.yaml --junit out.xml every host over SSH (kubespray/Ansible inventories too)
  kubecheck preflight --hosts root@10.0.0.1,root@10.0.0.2 --role worker
  kubecheck run suites/preflight-worker.yaml --local --only 'node.*' --junit report.xml
  kubecheck smoke --kubeconfig ~/.kube/config --junit smoke.xml
  kubecheck smoke --workloads --image-registry registry.local:5000   … plus canary, ConfigMap, Secret scenarios
  kubecheck run smoke --only workload.canary        one scenario alone
  kubecheck cleanup                                 remove namespaces an interrupted scenario left
  kubecheck smoke --baseline last.json --save-baseline next.json   regression gate
  kubecheck diff last.json next.json                what changed between two reports
  kubecheck fix cni0 --node w2 -i hosts.yaml        show the cleanup a stale cni0 needs (dry run)
  kubecheck fix cni0 --node w2 -i hosts.yaml --apply   … and run it, then check again
  kubecheck doctor --kubeconfig ~/.kube/config -i hosts.yaml   why each NotReady node is NotReady
  kubecheck list                                    the check catalogue
  kubecheck explain node.swap                       why a check matters and how to fix it

Exit codes: 0 nothing failed, 1 a check failed or errored, 2 bad usage or input,
            3 no target could be reached, 130 interrupted.`);

  addOutputOptions(addHostOptions(program.command('preflight')
    .description('check hosts before kubeadm init/join (suites/preflight.yaml)')
    .option('--suite <file>', 'another suite file instead of the built-in preflight')))
    .action(async (options: RunCommandOptions & { suite?: string }) => {
      setCode(await runCommand('preflight', options.suite ?? 'preflight', options, signal));
    });

  addOutputOptions(addWorkloadOptions(addClusterOptions(program.command('smoke')
    .description('check a cluster after install through its API (suites/smoke.yaml); --workloads runs the scenarios too')
    .option('--workloads', 'also run the workload scenarios (canary, ConfigMap reload, Secret restart) in namespaces of their own')
    .option('--suite <file>', 'another suite file instead of the built-in smoke'))))
    .action(async (options: RunCommandOptions & { suite?: string }) => {
      setCode(await runCommand('smoke', options.suite ?? 'smoke', options, signal));
    });

  addOutputOptions(addWorkloadOptions(addClusterOptions(addHostOptions(program.command('run')
    .description('run any suite file (or a built-in suite by name: preflight, preflight-worker, …)')
    .argument('<suite>', 'suite file or built-in suite name')))))
    .action(async (suite: string, options: RunCommandOptions) => {
      setCode(await runCommand('run', suite, options, signal));
    });

  program.command('diff')
    .description('what changed between two JSON reports: new, worse, fixed, still failing; hosts added and removed')
    .argument('<old>', 'the earlier JSON report (e.g. the baseline)')
    .argument('<new>', 'the later JSON report')
    .addOption(new Option('-o, --output <format>', 'what to print on stdout').choices(['text', 'json', 'junit']).default('text'))
    .option('--json <file>', 'write the comparison as JSON to FILE')
    .option('--junit <file>', 'write the comparison as JUnit XML to FILE (new/worse fail, known are skipped)')
    .action((oldFile: string, newFile: string, options: { output: string; json?: string; junit?: string }) => {
      const before = loadReport(oldFile, 'diff');
      const after = loadReport(newFile, 'diff');
      const cmp = compareRuns(before, after, oldFile);
      const json = renderDiffJson(cmp, { old: oldFile, new: newFile }, packageVersion());
      if (options.json) writeReport('--json', options.json, json);
      if (options.junit) writeReport('--junit', options.junit, renderDiffJunit(cmp));
      process.stdout.write(options.output === 'json' ? json : options.output === 'junit' ? renderDiffJunit(cmp) : renderDiffText(cmp, `kubecheck diff ${oldFile} → ${newFile}`));
      setCode(cmp.regressed ? 1 : 0);
    });

  addOutputOptions(addClusterOptions(addHostOptions(program.command('doctor')
    .description('name the cause of NotReady nodes from cluster and host evidence, with the fix')
    .argument('[nodes...]', 'nodes to diagnose (default: every NotReady node; without a cluster, every host)')
    .option('--all', 'look at Ready nodes too'))))
    .action(async (nodes: string[], options: RunCommandOptions & { all?: boolean }) => {
      const baseline = prepareReports(options);
      const useCluster = options.kubeconfig !== undefined || options.context !== undefined || process.env.KUBECONFIG !== undefined || !(options.inventory || options.hosts || options.local);
      const api = useCluster ? await connectApi(options) : undefined;
      const source = options.inventory || options.hosts || options.local ? await hostsFrom(options) : { hosts: [], close: async () => undefined };
      try {
        const { runDoctor } = await import('./doctor/run.js');
        const run = await runDoctor({
          checks: CHECKS,
          nodes,
          all: options.all === true,
          ...(api ? { api } : {}),
          hosts: source.hosts,
          signal,
          concurrency: options.concurrency ?? DEFAULT_CONCURRENCY,
          timeoutMs: (options.timeout ?? 30) * 1000,
          version: packageVersion(),
        });
        setCode(finishRun(run, options, baseline));
      } finally {
        await source.close();
      }
    });

  addKubeconfigOptions(program.command('cleanup')
    .description(`delete what interrupted workload scenarios left behind: namespaces labelled app.kubernetes.io/managed-by=kubecheck`)
    .option('--dry-run', 'only list them')
    .option('--timeout <seconds>', 'how long to wait for the namespaces to be gone (default 120)', positiveInt('--timeout')))
    .action(async (options: HostOptions & { dryRun?: boolean }) => {
      const { findLeftovers, removeLeftovers, MANAGED_SELECTOR } = await import('./scenarios/cleanup.js');
      const api = await connectApi(options);
      let leftovers;
      try {
        leftovers = await findLeftovers(api, signal);
      } catch (err: unknown) {
        process.stderr.write(`kubecheck: ${err instanceof Error ? err.message : String(err)}\n`);
        setCode(1);
        return;
      }
      if (leftovers.length === 0) {
        process.stdout.write(`no namespaces labelled ${MANAGED_SELECTOR}: nothing to clean up\n`);
        setCode(0);
        return;
      }
      for (const ns of leftovers) process.stdout.write(`${options.dryRun ? 'would delete' : 'deleting'} namespace ${ns.name}${ns.createdAt ? ` (created ${ns.createdAt})` : ''}${ns.phase === 'Terminating' ? ' (already terminating)' : ''}\n`);
      if (options.dryRun) {
        setCode(0);
        return;
      }
      const { removed, stuck } = await removeLeftovers(api, leftovers, { timeoutMs: (options.timeout ?? 120) * 1000, signal });
      process.stdout.write(`removed ${removed.length} namespace${removed.length === 1 ? '' : 's'}${stuck.length ? `; still terminating: ${stuck.map((n) => `${n.name}${n.holding ? ` (${n.holding})` : ''}`).join(', ')}` : ''}\n`);
      setCode(stuck.length ? 1 : 0);
    });

  const fixCmd = program.command('fix')
    .description('repair what a check found on one host: dry run by default, --apply to change it')
    .argument('<what>', `the fix: ${FIXES.map((f) => f.name).join(', ')}`)
    .option('--node <name>', 'the host to fix (its name in the inventory or --hosts)')
    .option('--from <dir>', 'flannel-plugin: a folder on this machine holding the plugin binaries')
    .option('--apply', 'run the commands (after asking, unless --yes)')
    .option('-y, --yes', 'do not ask before applying')
    .addHelpText('after', `\nFixes:\n${FIXES.map((f) => `  ${f.name.padEnd(15)} ${f.summary} (fixes ${f.check})`).join('\n')}`);
  addHostOptions(fixCmd).action(async (what: string, options: HostOptions & { node?: string; from?: string; apply?: boolean; yes?: boolean }) => {
    const fix = FIXES.find((f) => f.name === what);
    if (!fix) throw new InputError([{ message: `unknown fix '${what}' (have: ${FIXES.map((f) => f.name).join(', ')})` }]);
    const source = await hostsFrom({ ...options, ...(options.node ? { limit: [options.node] } : {}) });
    try {
      if (source.hosts.length !== 1) throw new InputError([{ message: `a fix runs on one host: pick it with --node (hosts: ${source.hosts.map((h) => h.name).join(', ')})` }]);
      const confirm = async (question: string) => {
        if (options.yes) return true;
        if (!process.stdin.isTTY) throw new InputError([{ message: '--apply without a terminal to confirm on: add --yes' }]);
        const { createInterface } = await import('node:readline/promises');
        const rl = createInterface({ input: process.stdin, output: process.stderr });
        try {
          return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
        } finally {
          rl.close();
        }
      };
      const result = await runFix(fix, source.hosts[0], {
        apply: options.apply === true,
        ...(options.from ? { from: options.from } : {}),
        confirm,
        out: (line) => process.stdout.write(`${line}\n`),
        signal,
        timeoutMs: (options.timeout ?? 120) * 1000,
      });
      setCode(result.outcome === 'still-failing' ? 1 : 0);
    } finally {
      await source.close();
    }
  });

  program.command('list')
    .description('list the check catalogue')
    .addOption(new Option('-o, --output <format>', 'text or json').choices(['text', 'json']).default('text'))
    .action((options: { output: string }) => {
      process.stdout.write(options.output === 'json'
        ? JSON.stringify(CHECKS.map((c) => ({ id: c.id, title: c.title, area: c.area, kind: c.kind, why: c.why, remediation: c.remediation, codes: Object.fromEntries(Object.entries(c.codes).map(([k, v]) => [`${c.id}/${k}`, v])) })), null, 2) + '\n'
        : catalogue());
      setCode(0);
    });

  program.command('explain')
    .description('why a check matters and how to fix what it finds')
    .argument('<id>', 'check id, e.g. node.swap, or a finding code, e.g. node.swap/swap-on')
    .action(async (id: string) => {
      process.stdout.write(await explain(id));
      setCode(0);
    });

  return program;
}

/** Runs the CLI and returns the exit code (the bin sets process.exitCode; nothing here calls exit). */
export async function main(argv: string[]): Promise<number> {
  const controller = new AbortController();
  // Every host's work listens on the run's signal: hundreds of listeners are expected, not a leak.
  setMaxListeners(0, controller.signal);
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1) {
      process.stderr.write('\ninterrupted: closing connections and cleaning up (Ctrl-C again to quit now)\n');
      controller.abort();
    } else {
      process.exit(130);
    }
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  let code = 0;
  try {
    await buildProgram(controller.signal, (c) => (code = c)).parseAsync(argv);
  } catch (err: unknown) {
    code = handleError(err);
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
  return controller.signal.aborted ? 130 : code;
}

function handleError(err: unknown): number {
  if (err instanceof CommanderError) {
    // Help and version are successful exits; any other parse problem is bad usage.
    return err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : 2;
  }
  if (err instanceof InputError) {
    for (const p of err.problems) process.stderr.write(`kubecheck: ${formatProblem(p)}\n`);
    return err.problems.some((p) => p.severity !== 'warning') ? 2 : 0;
  }
  process.stderr.write(`kubecheck: internal error: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  return 1;
}
