import type { Command } from 'commander';
import { addKubeconfigOptions, type HostOptions, positiveInt } from '../options.js';
import { type CommandContext, connectApi } from '../run-command.js';

export function register(program: Command, ctx: CommandContext): void {
  addKubeconfigOptions(program.command('cleanup')
    .description('delete what interrupted workload scenarios left behind: namespaces labelled app.kubernetes.io/managed-by=kubecheck')
    .option('--dry-run', 'only list them')
    .option('--timeout <seconds>', 'how long to wait for the namespaces to be gone (default 120)', positiveInt('--timeout')))
    .action(async (options: HostOptions & { dryRun?: boolean }) => {
      const { findLeftovers, removeLeftovers, MANAGED_SELECTOR } = await import('../../k8s/managed.js');
      const api = await connectApi(options);
      let leftovers;
      try {
        leftovers = await findLeftovers(api, ctx.signal);
      } catch (err: unknown) {
        process.stderr.write(`kubecheck: ${err instanceof Error ? err.message : String(err)}\n`);
        ctx.setCode(1);
        return;
      }
      if (leftovers.length === 0) {
        process.stdout.write(`no namespaces labelled ${MANAGED_SELECTOR}: nothing to clean up\n`);
        ctx.setCode(0);
        return;
      }
      for (const ns of leftovers) process.stdout.write(`${options.dryRun ? 'would delete' : 'deleting'} namespace ${ns.name}${ns.createdAt ? ` (created ${ns.createdAt})` : ''}${ns.phase === 'Terminating' ? ' (already terminating)' : ''}\n`);
      if (options.dryRun) {
        ctx.setCode(0);
        return;
      }
      const { removed, stuck } = await removeLeftovers(api, leftovers, { timeoutMs: (options.timeout ?? 120) * 1000, signal: ctx.signal });
      process.stdout.write(`removed ${removed.length} namespace${removed.length === 1 ? '' : 's'}${stuck.length ? `; still terminating: ${stuck.map((n) => `${n.name}${n.holding ? ` (${n.holding})` : ''}`).join(', ')}` : ''}\n`);
      ctx.setCode(stuck.length ? 1 : 0);
    });
}
