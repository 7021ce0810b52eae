// Runs a command in a pod's container through the API server (`kubectl exec`): client-node's WebSocket
// exec (v5/v4 channel protocol). `openExec` is the stream underneath (stdin, stdout, stderr as streams,
// the exit status as a promise); `execInPod` collects a command's output into strings, bounded by a
// timeout and the run's signal.
import { type Readable, Writable } from 'node:stream';
import { isIP } from 'node:net';
import { type ConnectionOptions, type SecureContext, type TLSSocket, connect as tlsConnect, createSecureContext } from 'node:tls';
import { ApiError, type KubeApi } from './api.js';
import { deadline } from '../core/pool.js';

export interface ExecOutput {
  stdout: string;
  stderr: string;
  exitCode: number;
  /** Client clock (ms since epoch): when the exec was asked for, when its first output arrived, when it ended. */
  timing?: { sentAt: number; firstByteAt: number; endedAt: number };
}

/** The command could not be run at all (not "it ran and exited non-zero"). */
export class ExecError extends Error {
  override name = 'ExecError';
  constructor(
    message: string,
    /** The command started but did not finish in time (not worth retrying). */
    readonly timedOut = false,
  ) {
    super(message);
  }
}

export interface ExecTarget {
  namespace: string;
  pod: string;
  container: string;
}

interface ExecStatus {
  status?: string;
  message?: string;
  reason?: string;
  details?: { causes?: { reason?: string; message?: string }[] };
}

/** How an exec ended: its exit code, or an ExecError when the command could not be run. */
export type ExecEnd = { exitCode: number } | { error: ExecError };

/** An exec that is running: close() ends it (the container's process gets SIGHUP/EOF, as for kubectl). */
export interface OpenExec {
  ended: Promise<ExecEnd>;
  close(): void;
}

const where = (t: ExecTarget) => `${t.namespace}/${t.pod} (${t.container})`;

/** The exit code or failure an exec's status message says. */
function endOf(status: ExecStatus | undefined, target: ExecTarget): ExecEnd {
  if (!status) return { error: new ExecError(`exec in ${where(target)}: the connection closed without an exit status`) };
  if (status.status === 'Success') return { exitCode: 0 };
  const code = status.details?.causes?.find((c) => c.reason === 'ExitCode')?.message;
  if (status.reason === 'NonZeroExitCode' && code !== undefined) return { exitCode: Number(code) };
  return { error: new ExecError(`exec in ${where(target)} failed: ${status.message ?? JSON.stringify(status)}`) };
}

type Handler = import('@kubernetes/client-node/dist/web-socket-handler.js').WebSocketInterface;
const handlers = new WeakMap<KubeApi, Handler>();

/**
 * The WebSocket connections of one cluster: one TLS context for all (client-node builds a new one from the
 * kubeconfig's CA, certificate and key for every socket: parsing them cost most of an exec's client CPU on
 * thousands of nodes), and the server's last session ticket offered, so later sockets resume it.
 */
async function handlerFor(api: KubeApi): Promise<Handler> {
  const known = handlers.get(api);
  if (known) return known;
  const { WebSocketHandler } = await import('@kubernetes/client-node/dist/web-socket-handler.js');
  const { WebSocket } = await import('ws');
  type ClientOptions = import('ws').ClientOptions;
  let context: SecureContext | undefined;
  let ticket: Buffer | undefined;
  const handler = new WebSocketHandler(api.kc, (uri: string, protocols: string[], opts: ClientOptions) => {
    if (!uri.startsWith('wss:')) return new WebSocket(uri, protocols, opts);
    // No agent: its own connect would build a TLS context again; ours makes the connection.
    const { ca, cert, key, agent: _agent, ...rest } = opts;
    context ??= createSecureContext({ ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) });
    const secureContext = context;
    return new WebSocket(uri, protocols, {
      ...rest,
      createConnection: (o: ConnectionOptions & { host?: string; path?: string | null }) => {
        const socket: TLSSocket = tlsConnect({ ...o, path: undefined, secureContext, servername: o.servername ?? (o.host && !isIP(o.host) ? o.host : ''), ...(ticket ? { session: ticket } : {}) } as ConnectionOptions);
        socket.on('session', (t: Buffer) => (ticket = t));
        return socket;
      },
    } as ClientOptions);
  });
  handlers.set(api, handler);
  return handler;
}

/**
 * Starts `command` in the container with these streams. Rejects when the exec cannot be opened (a 401/403
 * is an ApiError naming pods/exec); once open, `ended` says how it finished (the socket closing without a
 * status, or an error on it, is an ExecError there).
 */
export async function openExec(api: KubeApi, target: ExecTarget, command: string[], streams: { stdout: Writable; stderr: Writable; stdin?: Readable }): Promise<OpenExec> {
  const { Exec } = await import('@kubernetes/client-node');
  let status: ExecStatus | undefined;
  let socket: Awaited<ReturnType<InstanceType<typeof Exec>['exec']>>;
  api.count('EXEC');
  try {
    socket = await new Exec(api.kc, await handlerFor(api)).exec(target.namespace, target.pod, target.container, command, streams.stdout, streams.stderr, streams.stdin ?? null, false, (s) => {
      status = s as ExecStatus;
    });
  } catch (e: unknown) {
    // client-node rejects with the upgrade response's body or an ErrorEvent; keep its text.
    const text = e instanceof Error ? e.message : (e as { message?: string })?.message ?? String(e);
    const httpStatus = Number(/Unexpected server response: (\d+)/.exec(text)?.[1]);
    if (httpStatus === 401 || httpStatus === 403) throw new ApiError(httpStatus, `exec in ${where(target)}: HTTP ${httpStatus}: the user may not create pods/exec in ${target.namespace}`);
    throw new ExecError(`exec in ${where(target)} failed: ${text}`);
  }
  const ended = new Promise<ExecEnd>((resolve) => {
    socket.on('close', () => resolve(endOf(status, target)));
    socket.on('error', (e: Error) => resolve({ error: new ExecError(`exec in ${where(target)} failed: ${e.message}`) }));
  });
  return { ended, close: () => socket.close() };
}

/** A Writable that keeps what it gets, up to `limit` bytes (then `onOverflow` is called once). */
function collector(onFirst?: () => void, limit = Number.POSITIVE_INFINITY, onOverflow?: () => void): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  let size = 0;
  let first = true;
  return {
    stream: new Writable({
      write(chunk: Buffer, _enc, done) {
        if (first) {
          first = false;
          onFirst?.();
        }
        size += chunk.length;
        if (size > limit) onOverflow?.();
        else chunks.push(Buffer.from(chunk));
        done();
      },
    }),
    text: () => Buffer.concat(chunks).toString('utf8'),
  };
}

export async function execInPod(
  api: KubeApi,
  target: ExecTarget,
  command: string[],
  options: { timeoutMs: number; signal: AbortSignal; stdin?: Readable; maxOutputBytes?: number },
): Promise<ExecOutput> {
  // Output past the bound stops the exec like a timeout does (a stop of our own, under the deadline).
  const stop = new AbortController();
  const onParentAbort = () => stop.abort();
  if (options.signal.aborted) stop.abort();
  else options.signal.addEventListener('abort', onParentAbort, { once: true });
  const limit = deadline(stop.signal, options.timeoutMs);
  const sentAt = Date.now();
  let firstByteAt = 0;
  let overflow = false;
  const max = options.maxOutputBytes ?? Number.POSITIVE_INFINITY;
  const out = collector(() => (firstByteAt = Date.now()), max, () => {
    overflow = true;
    stop.abort();
  });
  const err = collector(undefined, 1 << 20);
  try {
    if (limit.signal.aborted) throw new ApiError(0, 'interrupted');
    const exec = await openExec(api, target, command, { stdout: out.stream, stderr: err.stream, ...(options.stdin ? { stdin: options.stdin } : {}) });
    const end = await new Promise<ExecEnd>((resolve, reject) => {
      const onAbort = () => {
        exec.close();
        if (overflow) reject(new ExecError(`exec in ${where(target)}: its output passed ${max} bytes; stopped`));
        else reject(options.signal.aborted ? new ApiError(0, 'interrupted') : new ExecError(`exec in ${where(target)} did not finish within ${Math.round(options.timeoutMs / 1000)} s`, true));
      };
      if (limit.signal.aborted) return onAbort();
      limit.signal.addEventListener('abort', onAbort, { once: true });
      void exec.ended.then((e) => {
        limit.signal.removeEventListener('abort', onAbort);
        resolve(e);
      });
    });
    if ('error' in end) throw end.error;
    const endedAt = Date.now();
    return { stdout: out.text(), stderr: err.text(), exitCode: end.exitCode, timing: { sentAt, firstByteAt: firstByteAt || endedAt, endedAt } };
  } finally {
    limit.clear();
    options.signal.removeEventListener('abort', onParentAbort);
  }
}
