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

/** Runs shell scripts on one host. One instance is one connection, reused for the whole run. */
export interface Transport {
  readonly host: string;
  /** How this transport reaches its host, for the report's `reachedBy`. */
  readonly via?: 'local' | 'ssh' | 'in-cluster';
  exec(script: string, options: ExecOptions): Promise<ExecResult>;
  /**
   * A TCP connection made from the host itself (over SSH: the host's sshd dials, as `ssh -W` does), to see
   * what that host can reach. Rejects with the host's reason (refused, timed out, no route).
   */
  connectTcp?(address: string, port: number, options: ExecOptions): Promise<NodeJS.ReadWriteStream & { destroy(): void }>;
  /** A connection to a unix socket on the host (the CRI socket), made as the login user. */
  connectUnix?(path: string, options: ExecOptions): Promise<NodeJS.ReadWriteStream & { destroy(): void }>;
  close(): Promise<void>;
}
