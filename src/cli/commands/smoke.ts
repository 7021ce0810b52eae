import type { Command } from 'commander';
import { addInClusterOptions } from '../in-cluster.js';
import { addClusterOptions, addOutputOptions, addWorkloadOptions, list, positiveInt, type RunCommandOptions } from '../options.js';
import { type CommandContext, runCommand } from '../run-command.js';

export function register(program: Command, ctx: CommandContext): void {
  addOutputOptions(addInClusterOptions(addWorkloadOptions(addClusterOptions(program.command('smoke')
    .description('check a cluster after install through its API (suites/smoke.yaml); --workloads runs the scenarios too, --nodes the node checks from inside the cluster')
    .option('--workloads', 'also run the workload scenarios (canary, ConfigMap reload, Secret restart) in namespaces of their own')
    .option('--nodes', 'also run the node suite on every node, its facts collected from inside the cluster (a short-lived DaemonSet)')
    .option('--suite <file>', 'another suite file instead of the built-in smoke')
    .option('--limit <names>', '--nodes: only these nodes (names, addresses, roles or globs, comma-separated)', list)
    .option('--concurrency <n>', '--nodes: collector execs at once (default 32)', positiveInt('--concurrency'))
    .option('--timeout <seconds>', '--nodes: time for one node to report once its collector pod runs (default 60)', positiveInt('--timeout'))))))
    .action(async (options: RunCommandOptions & { suite?: string }) => {
      ctx.setCode(await runCommand('smoke', options.suite ?? 'smoke', options, ctx.signal));
    });
}
