// The CLI is a thin shell over the library: parse arguments, call the library, render, return the exit code.
// Each command is one small file under src/cli/commands/.
import { setMaxListeners } from 'node:events';
import { Command, CommanderError } from 'commander';
import { packageVersion } from './core/assets.js';
import { InputError, formatProblem } from './core/errors.js';
import { InClusterSetupError } from './incluster/session.js';
import * as catalogue from './cli/commands/catalogue.js';
import * as cleanup from './cli/commands/cleanup.js';
import * as diff from './cli/commands/diff.js';
import * as doctor from './cli/commands/doctor.js';
import * as fix from './cli/commands/fix.js';
import * as inventory from './cli/commands/inventory.js';
import * as preflight from './cli/commands/preflight.js';
import * as run from './cli/commands/run.js';
import * as smoke from './cli/commands/smoke.js';

const COMMANDS = [preflight, smoke, run, diff, doctor, cleanup, fix, inventory, catalogue];

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
  kubecheck inventory -i inventory/mycluster/       where each host's SSH goes, and which file said so
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
  kubecheck run node --in-cluster --image-registry registry.local:5000   node checks from inside the cluster, no SSH
  kubecheck smoke --nodes --image-registry registry.local:5000  … the API checks and every node's in one report
  kubecheck doctor --in-cluster --image-registry registry.local:5000   host evidence without SSH
  kubecheck list                                    the check catalogue
  kubecheck explain node.swap                       why a check matters and how to fix it

Exit codes: 0 nothing failed, 1 a check failed or errored, 2 bad usage or input,
            3 no target could be reached, 130 interrupted.`);

  const ctx = { signal, setCode };
  for (const command of COMMANDS) command.register(program, ctx);
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
  if (err instanceof InClusterSetupError) {
    // No node could even be listed: no target reached.
    process.stderr.write(`kubecheck: ${err.message}\n`);
    return 3;
  }
  process.stderr.write(`kubecheck: internal error: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  return 1;
}
