// A host reached over a transport (local or SSH): its one connection for the run, the collector run on it,
// and the connection closed whichever way that ends.
import type { NodeFacts } from '../core/facts.js';
import { InterruptedError, deadline, withTimeout } from '../core/pool.js';
import type { HostTarget } from '../core/types.js';
import type { ExecOptions, ExecResult, RunningCommand, Transport } from '../transports/types.js';
import { probeHost } from './host-probes.js';
import { type HeldCollector, collectNodeFacts, collectNodeFactsHeld } from './node/index.js';

/** How long a held collector's channel may wait for its one more command (the fleet probe) at most. */
const HOLD_MS = 10 * 60_000;

/**
 * A host's connection kept for the fleet probe, with its collector's channel still open: the first
 * one-line `start` or `exec` runs on that channel (no new exec channel: sshd forks no second session),
 * later ones and everything else go to the connection as usual. Closing it ends the held channel and the
 * connection.
 */
export class HeldTransport implements Transport {
  readonly host: string;
  readonly via: Transport['via'];
  readonly connectTcp?: Transport['connectTcp'];
  readonly probeTcp?: Transport['probeTcp'];
  readonly connectUnix?: Transport['connectUnix'];

  constructor(
    private readonly inner: Transport,
    private held: HeldCollector | undefined,
  ) {
    this.host = inner.host;
    this.via = inner.via;
    if (inner.connectTcp) this.connectTcp = (a, p, o) => inner.connectTcp!(a, p, o);
    if (inner.probeTcp) this.probeTcp = (a, p, o) => inner.probeTcp!(a, p, o);
    if (inner.connectUnix) this.connectUnix = (p, o) => inner.connectUnix!(p, o);
  }

  async exec(script: string, options: ExecOptions): Promise<ExecResult> {
    if (!this.held || script.includes('\n')) return this.inner.exec(script, options);
    const running = await this.start(script, options);
    running.end();
    return running.result;
  }

  async start(command: string, options: ExecOptions): Promise<RunningCommand> {
    const held = this.release();
    if (!held || command.includes('\n')) {
      held?.running.end();
      if (!this.inner.start) throw new Error(`${this.host}: this transport cannot start a command`);
      return this.inner.start(command, options);
    }
    held.running.write(`${command}\n`);
    return continued(held, options);
  }

  private release(): HeldCollector | undefined {
    const held = this.held;
    this.held = undefined;
    return held;
  }

  async close(): Promise<void> {
    this.release()?.running.end();
    await this.inner.close();
  }
}

/** The held channel's output from its next command on, bounded by that command's own timeout and signal. */
function continued({ running, index, offset }: HeldCollector, { timeoutMs, signal }: ExecOptions): RunningCommand {
  const result = withTimeout(running.result, timeoutMs, signal, 'the command').then((r) => ({ ...r, stdout: r.stdout.slice(offset) }));
  result.catch(() => undefined);
  return {
    line: (i) => running.line(index + 1 + i),
    result,
    write: (text) => running.write(text),
    end: () => running.end(),
  };
}

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
  /** Dial the runtime's registries and mirrors, and these too (for node.registry); without it none is dialled. */
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
    const collectOptions = { timeoutMs: options.timeoutMs, signal, ...(options.kubeletLog ? { kubeletLog: true } : {}), ...(options.profile ? { profile: options.profile } : {}), ...(options.phase ? { phase: options.phase } : {}) };
    let facts: NodeFacts;
    if (options.keep && opened.start) {
      // Kept for the fleet probe: the collector's channel stays open and the probe runs on it.
      const run = await collectNodeFactsHeld(opened as Transport & Required<Pick<Transport, 'start'>>, { ...collectOptions, signal: options.signal, holdMs: options.timeoutMs + HOLD_MS });
      transport = new HeldTransport(opened, run.held);
      facts = run.facts;
    } else facts = await collectNodeFacts(opened, collectOptions);
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
