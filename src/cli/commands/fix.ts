import type { Command } from 'commander';
import { CHECKS } from '../../../checks/index.js';
import { InputError } from '../../core/errors.js';
import { FIXES } from '../../fixes/fixes.js';
import { runFix } from '../../fixes/run.js';
import { addHostOptions, type HostOptions } from '../options.js';
import { type CommandContext, hostSource } from '../run-command.js';

/** Asks on the terminal; refuses without one (a CI job must say --yes). */
async function confirmOnTerminal(question: string, yes: boolean): Promise<boolean> {
  if (yes) return true;
  if (!process.stdin.isTTY) throw new InputError([{ message: '--apply without a terminal to confirm on: add --yes' }]);
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

export function register(program: Command, ctx: CommandContext): void {
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
    const source = await hostSource({ ...options, ...(options.node ? { limit: [options.node] } : {}) });
    try {
      if (source.hosts.length !== 1) throw new InputError([{ message: `a fix runs on one host: pick it with --node (hosts: ${source.hosts.map((h) => h.name).join(', ')})` }]);
      const result = await runFix(fix, source.hosts[0], {
        checks: CHECKS,
        apply: options.apply === true,
        ...(options.from ? { from: options.from } : {}),
        confirm: (question) => confirmOnTerminal(question, options.yes === true),
        out: (line) => process.stdout.write(`${line}\n`),
        signal: ctx.signal,
        timeoutMs: (options.timeout ?? 120) * 1000,
      });
      ctx.setCode(result.outcome === 'still-failing' ? 1 : 0);
    } finally {
      await source.close();
    }
  });
}
