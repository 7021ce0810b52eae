import type { Command } from 'commander';
import { addInClusterOptions } from '../in-cluster.js';
import { addClusterOptions, addHostOptions, addOutputOptions, addWorkloadOptions, type RunCommandOptions } from '../options.js';
import { type CommandContext, runCommand } from '../run-command.js';

export function register(program: Command, ctx: CommandContext): void {
  addOutputOptions(addInClusterOptions(addWorkloadOptions(addClusterOptions(addHostOptions(program.command('run')
    .description('run any suite file (or a built-in suite by name: preflight, preflight-worker, …)')
    .argument('<suite>', 'suite file or built-in suite name')))), { flag: 'collect each node\'s facts from inside the cluster (a short-lived DaemonSet; no SSH, -i only for nodes it cannot reach)' }))
    .action(async (suite: string, options: RunCommandOptions) => {
      ctx.setCode(await runCommand('run', suite, options, ctx.signal));
    });
}
