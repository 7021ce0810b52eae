import { type ExecOptions, type ExecResult, type Transport, TransportError } from './types.js';

/** Runs scripts on this machine through zx (quiet, nothrow, with the run's timeout and abort signal). */
export class LocalTransport implements Transport {
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

  async close(): Promise<void> {}
}
