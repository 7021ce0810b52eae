import type { Command } from 'commander';
import { addClusterOptions, addOutputOptions, addWorkloadOptions, type RunCommandOptions } from '../options.js';
import { type CommandContext, runCommand } from '../run-command.js';

export function register(program: Command, ctx: CommandContext): void {
  addOutputOptions(addWorkloadOptions(addClusterOptions(program.command('smoke')
    .description('check a cluster after install through its API (suites/smoke.yaml); --workloads runs the scenarios too')
    .option('--workloads', 'also run the workload scenarios (canary, ConfigMap reload, Secret restart) in namespaces of their own')
    .option('--suite <file>', 'another suite file instead of the built-in smoke'))))
    .action(async (options: RunCommandOptions & { suite?: string }) => {
      ctx.setCode(await runCommand('smoke', options.suite ?? 'smoke', options, ctx.signal));
    });
}
