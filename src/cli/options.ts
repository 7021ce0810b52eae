// The options commands share, defined once.
import { Command, Option } from 'commander';
import { InputError } from '../core/errors.js';
import { DEFAULT_CONCURRENCY, type FailOn } from '../core/runner.js';
import type { Phase, Role } from '../core/types.js';
import type { HostKeyPolicy } from '../transports/ssh.js';
import type { OutputOptions } from './output.js';
import { PROFILE_NAMES } from '../profiles/profiles.js';
import type { InClusterCliOptions } from './in-cluster.js';

export interface HostOptions {
  kubeconfig?: string;
  context?: string;
  retries?: number;
  local?: boolean;
  inventory?: string;
  hosts?: string;
  limit?: string[];
  user?: string;
  identityFile?: string;
  hostKeyPolicy?: HostKeyPolicy;
  knownHosts?: string;
  askPass?: boolean;
  connectTimeout?: number;
  sshConfig?: string;
  vaultPasswordFile?: string;
  inventoryTimeout?: number;
  role?: Role;
  phase?: Phase;
  only?: string[];
  skip?: string[];
  failOn?: FailOn;
  concurrency?: number;
  timeout?: number;
  profile?: string;
}

export type RunCommandOptions = HostOptions & OutputOptions & InClusterCliOptions & { baseline?: string; workloads?: boolean; nodes?: boolean };

export const list = (value: string, previous: string[] = []) => [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];

export const positiveInt = (flag: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InputError([{ message: `${flag} takes a whole number ≥ 1, not '${value}'` }]);
  return n;
};

/** --profile: judge hosts and cluster as this install instead of the one detected. */
function profileOption(): Option {
  return new Option('--profile <name>', 'how the cluster was built, instead of detecting it per host and cluster').choices([...PROFILE_NAMES]);
}

export function addOutputOptions(cmd: Command): Command {
  return cmd
    .option('--only <ids>', 'run only these checks (ids or globs, comma-separated)', list)
    .option('--skip <ids>', 'skip these checks (ids or globs, comma-separated)', list)
    .option('--json <file>', 'write the JSON report to FILE')
    .option('--junit <file>', 'write the JUnit XML report to FILE')
    .addOption(new Option('-o, --output <format>', 'what to print on stdout').choices(['text', 'json', 'junit']).default('text'))
    .option('-q, --quiet', 'print only the summary line (no progress)')
    .option('--no-color', 'no colours (also NO_COLOR=1)')
    .option('-v, --verbose', 'list passing checks too')
    .addOption(new Option('--fail-on <level>', 'lowest status that fails the run').choices(['fail', 'warn']).default('fail'))
    .option('--baseline <file>', 'compare with a saved JSON report: fail only on what is new or got worse')
    .option('--save-baseline <file>', 'save this run\'s JSON report as the next baseline');
}

export function addWorkloadOptions(cmd: Command): Command {
  return cmd
    .option('--image-registry <registry>', 'pull kubecheck\'s images through this mirror: the scenarios\' (nginx:1.22 → REGISTRY/library/nginx:1.22) and the in-cluster collector (REGISTRY/kubecheck/collector:VERSION)');
}

export function addKubeconfigOptions(cmd: Command): Command {
  return cmd
    .option('--kubeconfig <file>', 'kubeconfig for cluster checks (default: KUBECONFIG, ~/.kube/config, or in-cluster)')
    .option('--context <name>', 'kubeconfig context');
}

export function addClusterOptions(cmd: Command): Command {
  const withProfile = cmd.options.some((o) => o.long === '--profile') ? cmd : cmd.addOption(profileOption());
  return addKubeconfigOptions(withProfile)
    .option('--retries <n>', 'retry failing cluster and workload checks N times on fresh data (never host facts)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new InputError([{ message: `--retries takes a whole number ≥ 0, not '${v}'` }]);
      return n;
    });
}

/** How hosts are found and reached: the options `kubecheck inventory` shares with the commands that connect. */
export function addInventoryOptions(cmd: Command): Command {
  return cmd
    .option('-i, --inventory <path>', 'hosts to check over SSH: a kubecheck or Ansible inventory (YAML, INI, a directory, an executable; group_vars, host_vars and ansible.cfg as Ansible reads them)')
    .option('--hosts <list>', 'hosts to check over SSH: [user@]host[:port],… resolved through ssh_config (names are as given)')
    .option('--limit <names>', 'only these hosts: names, addresses, roles, groups or globs, comma-separated', list)
    .option('--user <user>', 'SSH user for hosts whose inventory names none (over ssh_config; default root, or the local user for Ansible)')
    .option('--identity-file <file>', 'private key for hosts whose inventory names none (like ssh -i)')
    .addOption(new Option('--host-key-policy <policy>', 'override the inventory and ssh_config: strict (default), accept-new or off').choices(['strict', 'accept-new', 'off']))
    .option('--known-hosts <file>', 'known_hosts file (default: ssh_config UserKnownHostsFile, ~/.ssh/known_hosts)')
    .option('--connect-timeout <seconds>', 'SSH connect timeout (over the inventory\'s and ssh_config\'s; default 10)', positiveInt('--connect-timeout'))
    .option('--ssh-config <file>', 'read this ssh_config instead of ~/.ssh/config and /etc/ssh/ssh_config (like ssh -F)')
    .option('--vault-password-file <file>', 'decrypt Ansible Vault values with this password file (or executable); never prompted')
    .option('--inventory-timeout <seconds>', 'time an executable inventory has to print its hosts (default 30)', positiveInt('--inventory-timeout'));
}

export function addHostOptions(cmd: Command): Command {
  return addInventoryOptions(cmd.option('--local', 'check this machine'))
    .option('--ask-pass', 'prompt once for an SSH password (or set KUBECHECK_SSH_PASSWORD)')
    .addOption(new Option('--role <role>', 'judge the hosts as this role').choices(['control-plane', 'worker', 'etcd']))
    .addOption(new Option('--phase <phase>', 'pre-install (ports must be free) or post-install (ports held by their components)').choices(['pre', 'post']))
    .option('--concurrency <n>', `hosts checked at once (default ${DEFAULT_CONCURRENCY})`, positiveInt('--concurrency'))
    .option('--timeout <seconds>', 'time for one host to connect and report (default 60)', positiveInt('--timeout'))
    .addOption(profileOption());
}
