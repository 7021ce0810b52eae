import type { Command } from 'commander';
import { CHECKS } from '../../../checks/index.js';
import { packageVersion } from '../../core/assets.js';
import { DEFAULT_CONCURRENCY } from '../../core/runner.js';
import { hasHostSource } from '../../inventory/targets.js';
import { addInClusterOptions, type InClusterSource, inClusterSource } from '../in-cluster.js';
import { addClusterOptions, addHostOptions, addOutputOptions, type RunCommandOptions } from '../options.js';
import { type CommandContext, connectApi, finishRun, hostSource, prepareReports } from '../run-command.js';

const DOCTOR_TIMEOUT_S = 30;

export function register(program: Command, ctx: CommandContext): void {
  addOutputOptions(addInClusterOptions(addClusterOptions(addHostOptions(program.command('doctor')
    .description('name the cause of NotReady nodes from cluster and host evidence, with the fix')
    .argument('[nodes...]', 'nodes to diagnose (default: every NotReady node; without a cluster, every host)')
    .option('--all', 'look at Ready nodes too'))), { flag: 'gather the host evidence from inside the cluster (a collector pod on each node diagnosed; -i only for nodes where it cannot run)' }))
    .action(async (nodes: string[], options: RunCommandOptions & { all?: boolean }) => {
      const baseline = prepareReports(options);
      const useCluster = options.inCluster === true || options.kubeconfig !== undefined || options.context !== undefined || process.env.KUBECONFIG !== undefined || !hasHostSource(options);
      const api = useCluster ? await connectApi(options) : undefined;
      const source = hasHostSource(options) && !options.inCluster ? await hostSource(options) : { hosts: [], close: async () => undefined };
      let collection: InClusterSource | undefined;
      try {
        const { runDoctor } = await import('../../doctor/run.js');
        const run = await runDoctor({
          checks: CHECKS,
          ...(options.profile ? { profile: options.profile } : {}),
          nodes,
          all: options.all === true,
          ...(api ? { api } : {}),
          hosts: source.hosts,
          // --in-cluster: a collector pod only on the nodes doctor looks at, once it knows them.
          ...(options.inCluster && api
            ? {
              hostsFor: async (chosen: string[]) => {
                if (!chosen.length) return { hosts: [] };
                collection = await inClusterSource(options, api, ctx.signal, { nodes: chosen, quiet: options.quiet === true, inventory: hostSource, defaultTimeoutS: DOCTOR_TIMEOUT_S });
                return { hosts: collection.hosts, timeoutMs: collection.targetTimeoutMs };
              },
            }
            : {}),
          signal: ctx.signal,
          // In-cluster: every chosen node waits for its pod at once; the execs are limited to --concurrency.
          concurrency: options.inCluster ? Number.MAX_SAFE_INTEGER : options.concurrency ?? DEFAULT_CONCURRENCY,
          timeoutMs: (options.timeout ?? DOCTOR_TIMEOUT_S) * 1000,
          version: packageVersion(),
        });
        ctx.setCode(finishRun(run, options, baseline));
      } finally {
        await collection?.close();
        await source.close();
      }
    });
}
