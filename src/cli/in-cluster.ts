// --in-cluster: the hosts of a run are the cluster's nodes, reached through the collector's DaemonSet
// instead of SSH. With an inventory too, a node whose collector pod cannot run is reached over SSH instead,
// and inventory hosts that are no node are checked over SSH as usual.
import { type Command, Option } from 'commander';
import type { ConnectableHost } from '../collectors/host.js';
import { packageVersion } from '../core/assets.js';
import { InputError } from '../core/errors.js';
import { collectorImage } from '../incluster/manifests.js';
import { type InClusterCollection, startInClusterCollection } from '../incluster/session.js';
import { Semaphore } from '../incluster/transport.js';
import { type HostSource, hasHostSource } from '../inventory/targets.js';
import picomatch from 'picomatch';
import type { KubeApi } from '../k8s/api.js';
import { TransportError } from '../transports/types.js';
import { DEFAULT_CONCURRENCY } from '../core/runner.js';
import { positiveInt, type HostOptions } from './options.js';

export interface InClusterCliOptions {
  inCluster?: boolean;
  collectorImage?: string;
  imageRegistry?: string;
  nodeSelector?: Record<string, string>;
  startTimeout?: number;
}

export const DEFAULT_START_TIMEOUT_S = 120;

function labels(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const out = { ...previous };
  for (const pair of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([A-Za-z0-9./_-]+)=([A-Za-z0-9._-]*)$/.exec(pair);
    if (!m) throw new InputError([{ message: `--node-selector takes KEY=VALUE[,KEY=VALUE…], not '${pair}'` }]);
    out[m[1]] = m[2];
  }
  return out;
}

/** The options of the in-cluster collection (run, smoke --nodes, doctor). */
export function addInClusterOptions(cmd: Command, options: { flag?: string } = {}): Command {
  const withRegistry = cmd.options.some((o) => o.long === '--image-registry')
    ? cmd
    : cmd.option('--image-registry <registry>', 'pull kubecheck\'s images through this registry or mirror (REGISTRY/kubecheck/collector:VERSION)');
  const withFlag = options.flag === undefined ? withRegistry : withRegistry.option('--in-cluster', options.flag);
  return withFlag
    .option('--collector-image <image>', 'in-cluster: the collector image (default: REGISTRY/kubecheck/collector:VERSION with --image-registry)')
    .option('--node-selector <labels>', 'in-cluster: only nodes with these labels (KEY=VALUE,…)', labels)
    .addOption(new Option('--start-timeout <seconds>', `in-cluster: how long the collector pods have to start (default ${DEFAULT_START_TIMEOUT_S})`).argParser(positiveInt('--start-timeout')));
}

export interface InClusterSource {
  collection: InClusterCollection;
  hosts: ConnectableHost[];
  /** Time for one host: its pod's start, then its collection. */
  targetTimeoutMs: number;
  close(): Promise<void>;
}

/**
 * Starts the in-cluster collection for a run (or for doctor's `nodes`) and pairs each node with its
 * inventory host when an inventory is given: that host is the fallback when the node's pod cannot run.
 */
export async function inClusterSource(
  options: HostOptions & InClusterCliOptions,
  api: KubeApi,
  signal: AbortSignal,
  io: { nodes?: string[]; quiet?: boolean; defaultTimeoutS?: number; inventory: (options: HostOptions) => Promise<HostSource> },
): Promise<InClusterSource> {
  const image = collectorImage({ version: packageVersion(), ...(options.collectorImage ? { image: options.collectorImage } : {}), ...(options.imageRegistry ? { registry: options.imageRegistry } : {}) });
  if (!image) {
    throw new InputError([{ message: '--in-cluster needs the collector image: --image-registry REGISTRY (after `node dist/scripts/collector-image.js push REGISTRY`) or --collector-image IMAGE' }]);
  }
  if (options.local || options.hosts) throw new InputError([{ message: '--in-cluster takes -i INVENTORY (SSH for the nodes it cannot reach), not --local or --hosts' }]);
  const startTimeoutMs = (options.startTimeout ?? DEFAULT_START_TIMEOUT_S) * 1000;
  // The whole inventory: --limit picks nodes (below), and the inventory only says how to reach them otherwise.
  const { limit, ...unlimited } = options;
  const ssh = hasHostSource(options) ? await io.inventory(unlimited) : undefined;
  const collection = await startInClusterCollection({
    api,
    image,
    ...(options.nodeSelector ? { nodeSelector: options.nodeSelector } : {}),
    ...(options.limit?.length && !io.nodes ? { limit: options.limit } : {}),
    ...(io.nodes ? { nodes: io.nodes } : {}),
    startTimeoutMs,
    concurrency: options.concurrency ?? DEFAULT_CONCURRENCY,
    signal,
  }).catch(async (err: unknown) => {
    await ssh?.close();
    throw err;
  });
  if (!io.quiet) process.stderr.write(`kubecheck: in-cluster: collector pods on ${collection.hosts.length} node${collection.hosts.length === 1 ? '' : 's'} in namespace ${collection.namespace} (${image}); deleted at the end\n`);
  const inventory = ssh?.hosts ?? [];
  const paired = new Set<ConnectableHost>();
  // SSH fallbacks at most `concurrency` at once (every node may fall back at the same moment).
  const sshSlots = new Semaphore(options.concurrency ?? DEFAULT_CONCURRENCY);
  const hosts: ConnectableHost[] = collection.hosts.map((h) => {
    const fallback = inventory.find((i) => i.name === h.name) ?? inventory.find((i) => i.address !== undefined && i.address === h.address);
    if (!fallback) return h;
    paired.add(fallback);
    return {
      ...h,
      open: async (s: AbortSignal) => {
        try {
          return await h.open(s);
        } catch (err: unknown) {
          if (s.aborted || !(err instanceof TransportError) || err.kind === 'interrupted') throw err;
          try {
            return await sshSlots.run(() => fallback.open(s), s);
          } catch (sshErr: unknown) {
            const kind = sshErr instanceof TransportError ? sshErr.kind : 'unreachable';
            throw new TransportError(kind, `in-cluster: ${err.message}; over SSH: ${sshErr instanceof Error ? sshErr.message : String(sshErr)}`, { cause: sshErr });
          }
        }
      },
    };
  });
  // Inventory hosts that are no node of the cluster (an etcd host of a binary install…) are checked over SSH.
  const matchers = (limit ?? []).map((l) => picomatch(l));
  const limited = (i: ConnectableHost) => !matchers.length || matchers.some((m, n) => m(i.name) || (i.address !== undefined && m(i.address)) || i.roles.includes(limit![n] as never));
  hosts.push(...inventory.filter((i) => !paired.has(i) && !io.nodes && limited(i)).map((i) => ({ ...i, open: (s: AbortSignal) => sshSlots.run(() => i.open(s), s) })));
  const timeoutS = options.timeout ?? io.defaultTimeoutS ?? 60;
  return {
    collection,
    hosts,
    targetTimeoutMs: startTimeoutMs + timeoutS * 1000 + (ssh ? (options.connectTimeout ?? 10) * 1000 : 0),
    close: async () => {
      const { stuck } = await collection.close();
      // Said even with -q: something was left in the cluster.
      if (stuck) process.stderr.write(`kubecheck: in-cluster: ${stuck}\n`);
      await ssh?.close();
    },
  };
}
