export interface ExecOptions {
  timeoutMs: number;
  signal: AbortSignal;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number | null;
  /** Client clock (ms since epoch): when the command was sent, when its first output arrived, when it ended. */
  timing: { sentAt: number; firstByteAt: number; endedAt: number };
}

export type TransportErrorKind = 'unreachable' | 'auth' | 'hostkey' | 'timeout' | 'sudo' | 'interrupted' | 'exec';

/** A failure to reach or use a host; becomes `error` results for that host only. */
export class TransportError extends Error {
  constructor(
    readonly kind: TransportErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TransportError';
  }
}

/** A command still running on a host: its stdin written as it goes. */
export interface RunningCommand {
  /** The line it printed at this index (0: the first); rejects if it ended (or failed) before printing it. */
  line(index: number): Promise<string>;
  /** Everything it printed, when it ended. */
  result: Promise<ExecResult>;
  write(text: string): void;
  /** Ends its stdin. */
  end(): void;
  /**
   * What it printed before the line `marker`, for a command that goes on after it (the collector held
   * open for the fleet probe), with no exit code yet; if it ends without printing that line, everything it
   * printed and its exit code. `index` is that line's index (for `line`), -1 when it never came.
   */
  until?(marker: string): Promise<ExecResult & { index: number }>;
}

/** Runs shell scripts on one host. One instance is one connection, reused for the whole run. */
export interface Transport {
  readonly host: string;
  /** How this transport reaches its host, for the report's `reachedBy`. */
  readonly via?: 'local' | 'ssh' | 'in-cluster';
  exec(script: string, options: ExecOptions): Promise<ExecResult>;
  /**
   * Starts a command line (run by the host's shell, as root) and leaves its stdin open, for what must run
   * on many hosts at once and be told when to go (the fleet probe); the options bound its whole life.
   */
  start?(command: string, options: ExecOptions): Promise<RunningCommand>;
  /**
   * A TCP connection made from the host itself (over SSH: the host's sshd dials, as `ssh -W` does), to see
   * what that host can reach. Rejects with the host's reason (refused, timed out, no route).
   */
  connectTcp?(address: string, port: number, options: ExecOptions): Promise<NodeJS.ReadWriteStream & { destroy(): void }>;
  /**
   * Whether the host can open a TCP connection to address:port (resolves) or not (rejects with the host's
   * reason), when the transport can say so without keeping a connection (in-cluster: one short exec).
   * Without it, `canConnect` opens a connectTcp stream and closes it.
   */
  probeTcp?(address: string, port: number, options: ExecOptions): Promise<void>;
  /** A connection to a unix socket on the host (the CRI socket), made as the login user. */
  connectUnix?(path: string, options: ExecOptions): Promise<NodeJS.ReadWriteStream & { destroy(): void }>;
  close(): Promise<void>;
}

/** Whether the host behind `transport` reaches address:port over TCP: resolves when it connects, else rejects with its reason. */
export async function canConnect(transport: Transport, address: string, port: number, options: ExecOptions): Promise<void> {
  if (transport.probeTcp) return transport.probeTcp(address, port, options);
  if (!transport.connectTcp) throw new TransportError('exec', `${transport.host} cannot dial from the host over this transport`);
  const stream = await transport.connectTcp(address, port, options);
  stream.destroy();
}
