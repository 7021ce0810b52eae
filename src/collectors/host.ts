// A host reached over a transport (local or SSH): its one connection for the run, the collector run on it,
// and the connection closed whichever way that ends.
import type { NodeFacts } from '../core/facts.js';
import { InterruptedError, deadline, withTimeout } from '../core/pool.js';
import type { HostTarget } from '../core/types.js';
import type { Transport } from '../transports/types.js';
import { probeHost } from './host-probes.js';
import { collectNodeFacts } from './node/index.js';

/** A host to check that can open its one connection for this run. */
export interface ConnectableHost extends HostTarget {
  open(signal: AbortSignal): Promise<Transport>;
}

/**
 * Opens a host's one connection, runs the node collector on it and closes it, within `timeoutMs` or
 * until `signal` aborts; the connection closes whichever way it ends (even one that opens too late).
 */
export async function collectFromHost(host: ConnectableHost, options: {
  timeoutMs: number;
  signal: AbortSignal;
  kubeletLog?: boolean;
  profile?: string;
  phase?: 'pre' | 'post';
  endpoints?: string[];
  /** Take the connection instead of closing it (the caller closes it): for probes between hosts later. */
  keep?: (transport: Transport) => void;
}): Promise<NodeFacts> {
  const limit = deadline(options.signal, options.timeoutMs);
  const signal = limit.signal;
  let transport: Transport | undefined;
  const collect = async () => {
    const opened = await host.open(signal);
    transport = opened;
    if (signal.aborted) throw new InterruptedError('interrupted');
    const facts = await collectNodeFacts(opened, { timeoutMs: options.timeoutMs, signal, ...(options.kubeletLog ? { kubeletLog: true } : {}), ...(options.profile ? { profile: options.profile } : {}), ...(options.phase ? { phase: options.phase } : {}) });
    const probed = await probeHost(opened, facts, { signal, ...(options.endpoints ? { endpoints: options.endpoints } : {}) });
    return opened.via ? { ...probed, reachedBy: opened.via } : probed;
  };
  let kept = false;
  try {
    const facts = await withTimeout(collect(), options.timeoutMs, options.signal, `connecting to ${host.name} and collecting facts`);
    if (options.keep && transport) {
      options.keep(transport);
      kept = true;
    }
    return facts;
  } finally {
    limit.clear();
    if (!kept) await (transport as Transport | undefined)?.close().catch(() => undefined);
  }
}
