import type { Command } from 'commander';
import { addClusterOptions, addHostOptions, addOutputOptions, addWorkloadOptions, type RunCommandOptions } from '../options.js';
import { type CommandContext, runCommand } from '../run-command.js';

export function register(program: Command, ctx: CommandContext): void {
  addOutputOptions(addWorkloadOptions(addClusterOptions(addHostOptions(program.command('run')
    .description('run any suite file (or a built-in suite by name: preflight, preflight-worker, …)')
    .argument('<suite>', 'suite file or built-in suite name')))))
    .action(async (suite: string, options: RunCommandOptions) => {
      ctx.setCode(await runCommand('run', suite, options, ctx.signal));
    });
}
