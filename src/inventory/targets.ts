// Turns --local, -i INVENTORY or --hosts into the hosts of a run, each able to open its one connection.
import { hostname } from 'node:os';
import type { ConnectableHost } from '../collectors/host.js';
import { InputError, formatProblem } from '../core/errors.js';
import type { Role } from '../core/types.js';
import { LocalTransport } from '../transports/local.js';
import { type HostKeyPolicy, SshConnector } from '../transports/ssh.js';
import { type Inventory, hostsFromList, limitHosts, loadInventory } from './load.js';

export interface TargetOptions {
  local?: boolean;
  inventory?: string;
  hosts?: string;
  limit?: string[];
  user?: string;
  role?: Role;
  identityFile?: string;
  hostKeyPolicy?: HostKeyPolicy;
  knownHosts?: string;
  askPass?: boolean;
  connectTimeout?: number;
}

export interface HostSource {
  hosts: ConnectableHost[];
  close(): Promise<void>;
}

/** Whether any host source was given. */
export const hasHostSource = (o: TargetOptions) => Boolean(o.local || o.inventory || o.hosts);

/**
 * The hosts to check, with one SSH connector for the run (keys, agent and known_hosts read once).
 * `askPassword` prompts for --ask-pass; warnings about the inventory go to `warn`.
 */
export async function hostsFrom(options: TargetOptions, io: { askPassword: () => Promise<string>; warn: (line: string) => void }): Promise<HostSource> {
  const sources = [options.local, options.inventory, options.hosts].filter(Boolean).length;
  if (sources > 1) throw new InputError([{ message: 'give one of --local, -i INVENTORY or --hosts' }]);
  if (options.local) {
    const name = hostname();
    return { hosts: [{ name, roles: options.role ? [options.role] : ['control-plane'], via: 'local', open: async () => new LocalTransport(name) }], close: async () => undefined };
  }
  let inventory: Inventory;
  if (options.inventory) inventory = loadInventory(options.inventory);
  else if (options.hosts) inventory = hostsFromList(options.hosts, { ...(options.user ? { user: options.user } : {}), ...(options.role ? { role: options.role } : {}) });
  else throw new InputError([{ message: 'no hosts to check: use --local for this machine, -i INVENTORY or --hosts user@addr,…' }]);
  for (const w of inventory.warnings) io.warn(`kubecheck: ${formatProblem(w)}`);
  const chosen = limitHosts(inventory.hosts, options.limit ?? []);
  const password = process.env.KUBECHECK_SSH_PASSWORD ?? (options.askPass ? await io.askPassword() : undefined);
  const connector = new SshConnector({
    connectTimeoutMs: (options.connectTimeout ?? 10) * 1000,
    ...(password !== undefined ? { password } : {}),
    ...(process.env.KUBECHECK_SSH_PASSPHRASE ? { passphrase: process.env.KUBECHECK_SSH_PASSPHRASE } : {}),
    ...(process.env.SSH_AUTH_SOCK ? { agent: process.env.SSH_AUTH_SOCK } : {}),
  });
  return {
    hosts: chosen.map((h) => ({
      name: h.name,
      address: h.host,
      roles: h.roles,
      via: 'ssh' as const,
      open: (signal: AbortSignal) => connector.openTransport({
        ...(options.identityFile ? { identityFile: options.identityFile } : {}),
        ...h,
        ...(options.hostKeyPolicy ? { hostKeyPolicy: options.hostKeyPolicy } : {}),
        ...(options.knownHosts ? { knownHostsFile: options.knownHosts } : {}),
      }, signal),
    })),
    close: () => connector.close(),
  };
}
