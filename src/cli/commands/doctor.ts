import type { Command } from 'commander';
import { CHECKS } from '../../../checks/index.js';
import { packageVersion } from '../../core/assets.js';
import { DEFAULT_CONCURRENCY } from '../../core/runner.js';
import { hasHostSource } from '../../inventory/targets.js';
import { addClusterOptions, addHostOptions, addOutputOptions, type RunCommandOptions } from '../options.js';
import { type CommandContext, connectApi, finishRun, hostSource, prepareReports } from '../run-command.js';

export function register(program: Command, ctx: CommandContext): void {
  addOutputOptions(addClusterOptions(addHostOptions(program.command('doctor')
    .description('name the cause of NotReady nodes from cluster and host evidence, with the fix')
    .argument('[nodes...]', 'nodes to diagnose (default: every NotReady node; without a cluster, every host)')
    .option('--all', 'look at Ready nodes too'))))
    .action(async (nodes: string[], options: RunCommandOptions & { all?: boolean }) => {
      const baseline = prepareReports(options);
      const useCluster = options.kubeconfig !== undefined || options.context !== undefined || process.env.KUBECONFIG !== undefined || !hasHostSource(options);
      const api = useCluster ? await connectApi(options) : undefined;
      const source = hasHostSource(options) ? await hostSource(options) : { hosts: [], close: async () => undefined };
      try {
        const { runDoctor } = await import('../../doctor/run.js');
        const run = await runDoctor({
          checks: CHECKS,
          ...(options.profile ? { profile: options.profile } : {}),
          nodes,
          all: options.all === true,
          ...(api ? { api } : {}),
          hosts: source.hosts,
          signal: ctx.signal,
          concurrency: options.concurrency ?? DEFAULT_CONCURRENCY,
          timeoutMs: (options.timeout ?? 30) * 1000,
          version: packageVersion(),
        });
        ctx.setCode(finishRun(run, options, baseline));
      } finally {
        await source.close();
      }
    });
}
