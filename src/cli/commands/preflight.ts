import type { Command } from 'commander';
import { addHostOptions, addOutputOptions, type RunCommandOptions } from '../options.js';
import { type CommandContext, runCommand } from '../run-command.js';

export function register(program: Command, ctx: CommandContext): void {
  addOutputOptions(addHostOptions(program.command('preflight')
    .description('check hosts before kubeadm init/join (suites/preflight.yaml)')
    .option('--suite <file>', 'another suite file instead of the built-in preflight')))
    .action(async (options: RunCommandOptions & { suite?: string }) => {
      ctx.setCode(await runCommand('preflight', options.suite ?? 'preflight', options, ctx.signal));
    });
}
