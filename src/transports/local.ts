import { connect, type Socket } from 'node:net';
import { type ExecOptions, type ExecResult, type Transport, TransportError } from './types.js';

/** A socket once connected, or the reason it could not be, within the timeout. */
export function connected(sock: Socket, what: string, { timeoutMs, signal }: ExecOptions): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      sock.off('connect', onConnect);
      sock.off('error', done);
      if (err) {
        sock.destroy();
        reject(err);
      } else resolve(sock);
    };
    const onConnect = () => done();
    const onAbort = () => done(new TransportError('interrupted', `connecting to ${what} was interrupted`));
    const timer = setTimeout(() => done(new TransportError('timeout', `${what}: timed out after ${timeoutMs} ms`)), timeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
    sock.once('connect', onConnect).once('error', done);
  });
}

/** Runs scripts on this machine through zx (quiet, nothrow, with the run's timeout and abort signal). */
export class LocalTransport implements Transport {
  readonly via = 'local' as const;

  constructor(readonly host: string = 'localhost') {}

  async exec(script: string, { timeoutMs, signal }: ExecOptions): Promise<ExecResult> {
    if (signal.aborted) throw new TransportError('interrupted', 'interrupted before the command started');
    const sentAt = Date.now();
    let firstByteAt = 0;
    // zx is loaded only when the local host is checked: SSH runs never pay for it.
    const { $ } = await import('zx');
    const run = $({ quiet: true, nothrow: true, timeout: timeoutMs, signal })`sh -c ${script}`;
    run.stdout.once('data', () => {
      firstByteAt = Date.now();
    });
    const out = await run;
    const endedAt = Date.now();
    if (signal.aborted) throw new TransportError('interrupted', 'interrupted');
    if (out.signal === 'SIGTERM' && out.exitCode === null) {
      throw new TransportError('timeout', `the command did not finish within ${timeoutMs} ms`);
    }
    return {
      stdout: out.stdout,
      stderr: out.stderr,
      code: out.exitCode,
      timing: { sentAt, firstByteAt: firstByteAt || endedAt, endedAt },
    };
  }

  connectTcp(address: string, port: number, options: ExecOptions): Promise<Socket> {
    return connected(connect({ host: address, port }), `${address}:${port}`, options);
  }

  connectUnix(path: string, options: ExecOptions): Promise<Socket> {
    return connected(connect({ path }), path, options);
  }

  async close(): Promise<void> {}
}
