// Runs a command in a pod's container through the API server (`kubectl exec`): client-node's WebSocket
// exec (v5/v4 channel protocol), collected into strings, bounded by a timeout and the run's signal.
import { Writable } from 'node:stream';
import { ApiError, type KubeApi } from './api.js';
import { deadline } from '../core/pool.js';

export interface ExecOutput {
  stdout: string;
  stderr: string;
  exitCode: number;
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

function collector(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  return {
    stream: new Writable({ write(chunk: Buffer, _enc, done) { chunks.push(Buffer.from(chunk)); done(); } }),
    text: () => Buffer.concat(chunks).toString('utf8'),
  };
}

interface ExecStatus {
  status?: string;
  message?: string;
  reason?: string;
  details?: { causes?: { reason?: string; message?: string }[] };
}

export async function execInPod(
  api: KubeApi,
  target: { namespace: string; pod: string; container: string },
  command: string[],
  options: { timeoutMs: number; signal: AbortSignal },
): Promise<ExecOutput> {
  const { Exec } = await import('@kubernetes/client-node');
  const out = collector();
  const err = collector();
  const where = `${target.namespace}/${target.pod} (${target.container})`;
  let status: ExecStatus | undefined;
  const limit = deadline(options.signal, options.timeoutMs);
  try {
    return await run(limit.signal);
  } finally {
    limit.clear();
  }

  async function run(signal: AbortSignal): Promise<ExecOutput> {
    if (signal.aborted) throw new ApiError(0, 'interrupted');
    let socket: Awaited<ReturnType<InstanceType<typeof Exec>['exec']>>;
    try {
      socket = await new Exec(api.kc).exec(target.namespace, target.pod, target.container, command, out.stream, err.stream, null, false, (s) => {
        status = s as ExecStatus;
      });
    } catch (e: unknown) {
      // client-node rejects with the upgrade response's body or an ErrorEvent; keep its text.
      const text = e instanceof Error ? e.message : (e as { message?: string })?.message ?? String(e);
      const httpStatus = Number(/Unexpected server response: (\d+)/.exec(text)?.[1]);
      if (httpStatus === 401 || httpStatus === 403) throw new ApiError(httpStatus, `exec in ${where}: HTTP ${httpStatus}: the user may not create pods/exec in ${target.namespace}`);
      throw new ExecError(`exec in ${where} failed: ${text}`);
    }
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        socket.close();
        reject(options.signal.aborted ? new ApiError(0, 'interrupted') : new ExecError(`exec in ${where} did not finish within ${Math.round(options.timeoutMs / 1000)} s`, true));
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      socket.on('close', () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
      socket.on('error', (e: Error) => {
        signal.removeEventListener('abort', onAbort);
        reject(new ExecError(`exec in ${where} failed: ${e.message}`));
      });
    });
    if (!status) throw new ExecError(`exec in ${where}: the connection closed without an exit status`);
    if (status.status === 'Success') return { stdout: out.text(), stderr: err.text(), exitCode: 0 };
    const code = status.details?.causes?.find((c) => c.reason === 'ExitCode')?.message;
    if (status.reason === 'NonZeroExitCode' && code !== undefined) return { stdout: out.text(), stderr: err.text(), exitCode: Number(code) };
    throw new ExecError(`exec in ${where} failed: ${status.message ?? JSON.stringify(status)}`);
  }
}
