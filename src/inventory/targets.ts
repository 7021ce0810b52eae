// Turns --local, -i INVENTORY or --hosts into the hosts of a run, each able to open its one connection.
import { hostname } from 'node:os';
import type { ConnectableHost } from '../collectors/host.js';
import { InputError, formatProblem } from '../core/errors.js';
import type { Role } from '../core/types.js';
import { LocalTransport } from '../transports/local.js';
import { type HostKeyPolicy, SshConnector, type SshTarget } from '../transports/ssh.js';
import { type Inventory, type InventoryHost, type LoadOptions, hostsFromList, limitHosts, loadInventory } from './load.js';

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
  sshConfig?: string;
  vaultPasswordFile?: string;
  inventoryTimeout?: number;
}

export interface HostSource {
  hosts: ConnectableHost[];
  close(): Promise<void>;
}

/** The options that decide how an inventory is read and its hosts resolved. */
export function loadOptionsOf(o: TargetOptions): LoadOptions {
  return {
    ...(o.sshConfig ? { sshConfig: o.sshConfig } : {}),
    ...(o.vaultPasswordFile ? { vaultPasswordFile: o.vaultPasswordFile } : {}),
    ...(o.inventoryTimeout ? { inventoryTimeoutMs: o.inventoryTimeout * 1000 } : {}),
    ...(o.user ? { user: o.user } : {}),
    ...(o.identityFile ? { identityFile: o.identityFile } : {}),
    ...(o.hostKeyPolicy ? { hostKeyPolicy: o.hostKeyPolicy } : {}),
    ...(o.knownHosts ? { knownHosts: o.knownHosts } : {}),
    ...(o.connectTimeout ? { connectTimeout: o.connectTimeout } : {}),
    ...(o.role ? { role: o.role } : {}),
  };
}

/** The inventory of -i or --hosts (or, with neither, the one ansible.cfg names). */
export async function inventoryFrom(o: TargetOptions): Promise<Inventory> {
  if (o.hosts) return hostsFromList(o.hosts, loadOptionsOf(o));
  return loadInventory(o.inventory, loadOptionsOf(o));
}

/** What the SSH transport needs of a resolved host. */
export function sshTarget(h: InventoryHost): SshTarget {
  return {
    name: h.name,
    host: h.host,
    port: h.port,
    user: h.user,
    identityFiles: h.identityFiles,
    identitiesOnly: h.identitiesOnly,
    hostKeyPolicy: h.hostKeyPolicy,
    knownHostsFiles: h.knownHostsFiles,
    jumps: h.jumps,
    ...(h.become !== undefined ? { become: h.become } : {}),
    ...(h.connectTimeout ? { connectTimeoutMs: h.connectTimeout * 1000 } : {}),
  };
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
  const inventory = await inventoryFrom(options);
  for (const w of inventory.warnings) io.warn(`kubecheck: ${formatProblem(w)}`);
  const chosen = limitHosts(inventory.hosts, options.limit ?? []);
  for (const h of chosen) for (const w of h.warnings) io.warn(`kubecheck: ${h.name}: ${w}`);
  const password = process.env.KUBECHECK_SSH_PASSWORD ?? (options.askPass ? await io.askPassword() : undefined);
  const connector = new SshConnector({
    connectTimeoutMs: (options.connectTimeout ?? 10) * 1000,
    ...(password !== undefined ? { password } : {}),
    ...(process.env.KUBECHECK_SSH_PASSPHRASE ? { passphrase: process.env.KUBECHECK_SSH_PASSPHRASE } : {}),
    ...(process.env.SSH_AUTH_SOCK ? { agent: process.env.SSH_AUTH_SOCK } : {}),
  });
  return {
    hosts: chosen.map((h): ConnectableHost => h.via === 'local'
      ? { name: h.name, roles: h.roles, via: 'local', open: async () => new LocalTransport(h.name) }
      : {
        name: h.name,
        address: h.host,
        roles: h.roles,
        via: 'ssh',
        open: (signal: AbortSignal) => connector.openTransport(sshTarget(h), signal),
      }),
    close: () => connector.close(),
  };
}
