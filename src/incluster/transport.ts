// The in-cluster transport: a node reached through its collector pod. A script runs in the pod through
// exec, under `chroot /host /bin/sh -c` (the host's own shell and tools, in the host's PID and network
// namespaces). Whether the host reaches an address is `kc-dial probe` in the pod (one short exec); a
// connection to a unix socket on the host (the CRI) is kc-dial in the pod, its stdin and stdout the
// connection — what sshd does for streamlocal forwarding over SSH.
import { isIP } from 'node:net';
import { Duplex, PassThrough, Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import type { ExecOptions, ExecResult, Transport } from '../transports/types.js';
import { TransportError } from '../transports/types.js';
import { ApiError, type KubeApi } from '../k8s/api.js';
import { ExecError, type ExecTarget, execInPod, openExec } from '../k8s/exec.js';
import { deadline } from '../core/pool.js';
import { HOST_ROOT } from './manifests.js';

/** The most a node's collector output may be (the kubelet log section is the big one). */
export const MAX_OUTPUT_BYTES = 16 << 20;

/** At most `limit` execs at once across every node (the API server and kubelets carry them). */
export class Semaphore {
  private active = 0;
  private readonly queue: (() => void)[] = [];
  constructor(readonly limit: number) {}

  async run<T>(work: () => Promise<T>, signal: AbortSignal): Promise<T> {
    if (this.active >= this.limit) {
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          const i = this.queue.indexOf(go);
          if (i >= 0) this.queue.splice(i, 1);
          reject(new TransportError('interrupted', 'interrupted'));
        };
        const go = () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        };
        if (signal.aborted) return onAbort();
        signal.addEventListener('abort', onAbort, { once: true });
        this.queue.push(go);
      });
    } else this.active++;
    try {
      return await work();
    } finally {
      const next = this.queue.shift();
      if (next) next();
      else this.active--;
    }
  }
}

/** An exec failure as the transport's error kinds (what the runner reports for the host). */
function transportError(err: unknown): TransportError {
  if (err instanceof TransportError) return err;
  if (err instanceof ApiError) {
    if (err.message === 'interrupted') return new TransportError('interrupted', 'interrupted', { cause: err });
    return new TransportError(err.status === 401 || err.status === 403 ? 'auth' : 'exec', err.message, { cause: err });
  }
  if (err instanceof ExecError) return new TransportError(err.timedOut ? 'timeout' : 'exec', err.message, { cause: err });
  return new TransportError('exec', err instanceof Error ? err.message : String(err), { cause: err });
}

/** The most addresses dialled ahead (as many as a host's registries are tried: host-probes). */
const MAX_AHEAD = 8;

/**
 * The addresses the nodes of one collection were asked to dial (their registries and mirrors, the same on
 * most nodes): each later node dials them from its pod while its collector runs, in the same exec, so its
 * own dial needs no second exec — on thousands of nodes, half the execs through the API server.
 */
export class DialAhead {
  private readonly known: [string, number][] = [];

  learn(ip: string, port: number): void {
    if (this.known.length < MAX_AHEAD && !this.known.some(([a, p]) => a === ip && p === port)) this.known.push([ip, port]);
  }

  targets(): readonly [string, number][] {
    return this.known;
  }
}

/**
 * The collector with dials ahead, run by the pod's shell: each `ADDRESS PORT` pair before `--` is dialled
 * by kc-dial in the background (its one line to stderr as `@@kc-dial ADDRESS PORT …`), the host command
 * after `--` runs in the host's root, and the exec ends with its exit code once the dials are done (each is
 * bounded).
 */
const WITH_DIALS = `while [ $# -gt 1 ] && [ "$1" != -- ]; do a=$1; p=$2; shift 2; (printf '@@kc-dial %s %s %s\\n' "$a" "$p" "$(kc-dial probe "$a" "$p" 3 2>&1 | head -n 1)" >&2) & done
shift
chroot ${HOST_ROOT} "$@"; rc=$?
wait
exit $rc`;

/** Scripts longer than this travel packed (gzip, base64) and are unpacked by the host's own shell. */
const PACK_ABOVE = 2048;

/** What the host's shell says when it cannot unpack a packed script (no base64 or gzip on the host). */
export const UNPACK_FAILED = 'kubecheck: the host cannot unpack the script (base64 -d | gzip -dc failed)';
const UNPACK_EXIT = 97;

/** The packed script is $0 of this one-liner: the host's base64 and gzip unpack it, its shell evals it. */
const UNPACK = `s=$(printf %s "$0" | base64 -d | gzip -dc) || { echo '${UNPACK_FAILED}' >&2; exit ${UNPACK_EXIT}; }; eval "$s"`;

const packed = new Map<string, string>();

/**
 * The host command that runs `script` under `chroot`: a long script (the collector, ~16 KB) travels
 * gzipped and base64-encoded, a third of its size in the request URL. Every exec carries its command in
 * that URL, which the client builds, URL-encodes and copies several times: on thousands of nodes those
 * copies were most of what the in-cluster run allocated and kept until V8's next full collection.
 */
export function hostCommand(script: string, pack = true): string[] {
  if (!pack || script.length <= PACK_ABOVE) return ['/bin/sh', '-c', script];
  let arg = packed.get(script);
  if (arg === undefined) {
    arg = gzipSync(script, { level: 9 }).toString('base64');
    if (packed.size > 16) packed.clear();
    packed.set(script, arg);
  }
  return ['/bin/sh', '-c', UNPACK, arg];
}

/** The host could not unpack a packed script. */
export const unpackFailed = (out: { exitCode: number; stderr: string }) => out.exitCode === UNPACK_EXIT && out.stderr.includes(UNPACK_FAILED);

/** Runs `script` packed through `run`; when the host cannot unpack it, once more as it is. */
export async function runPacked<T extends { exitCode: number; stderr: string }>(script: string, run: (host: string[]) => Promise<T>): Promise<T> {
  const out = await run(hostCommand(script));
  return unpackFailed(out) ? run(hostCommand(script, false)) : out;
}

/** Why `kc-dial probe` did not connect, from what it said (`kc-dial: ADDRESS:PORT: REASON`). */
const dialFailure = (said: string) => /kc-dial: [^\n]*?:\d+: ([^\n]+)/.exec(said)?.[1];

export class PodTransport implements Transport {
  readonly via = 'in-cluster' as const;
  /** What the dials ahead said, by `ADDRESS PORT`: `connected` or the reason. */
  private readonly dialled = new Map<string, string>();
  private dialledAhead = false;

  constructor(
    readonly host: string,
    private readonly api: KubeApi,
    private readonly target: ExecTarget,
    private readonly limiter: Semaphore,
    private readonly ahead?: DialAhead,
    /** Told when the runner is done with this node (its facts are in). */
    private readonly onClose?: () => void,
  ) {}

  exec(script: string, options: ExecOptions): Promise<ExecResult> {
    const first = !this.dialledAhead;
    this.dialledAhead = true;
    return this.limiter.run(async () => {
      // The first exec (the collector) carries the dials ahead known when it gets its turn.
      const dials = first && this.ahead ? this.ahead.targets().flatMap(([a, p]) => [a, String(p)]) : [];
      const inPod = (host: string[]) => (dials.length ? ['sh', '-c', WITH_DIALS, 'kc', ...dials, '--', ...host] : ['chroot', HOST_ROOT, ...host]);
      const run = (host: string[]) => execInPod(this.api, this.target, inPod(host), { ...options, maxOutputBytes: MAX_OUTPUT_BYTES });
      try {
        const out = await runPacked(script, run);
        const stderr = dials.length ? this.keepDials(out.stderr) : out.stderr;
        return { stdout: out.stdout, stderr, code: out.exitCode, timing: out.timing ?? { sentAt: 0, firstByteAt: 0, endedAt: 0 } };
      } catch (err: unknown) {
        throw transportError(err);
      }
    }, options.signal);
  }

  /** Keeps what the dials ahead said; returns the rest of stderr. */
  private keepDials(stderr: string): string {
    const rest: string[] = [];
    for (const line of stderr.split('\n')) {
      const m = /^@@kc-dial (\S+) (\d+) (.*)$/.exec(line);
      if (!m) {
        rest.push(line);
        continue;
      }
      const said = m[3].trim();
      // Nothing said (kc-dial missing or killed): not known, dialled on its own later.
      const reason = said === 'kc-dial: connected' ? 'connected' : dialFailure(said);
      if (reason) this.dialled.set(`${m[1]} ${m[2]}`, reason);
    }
    return rest.join('\n');
  }

  /** A name is looked up on the host (its /etc/hosts and DNS, as sshd would); an address is dialled as it is. */
  private async addressOf(address: string, port: number, options: ExecOptions): Promise<string> {
    if (isIP(address)) return address;
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(address)) throw new TransportError('unreachable', `${address}:${port}: not a host name`);
    const out = await this.exec(`getent ahosts '${address}' 2>/dev/null | while read -r a rest; do echo "$a"; break; done`, options);
    const found = out.stdout.trim().split('\n')[0];
    if (!found || !isIP(found)) throw new TransportError('unreachable', `${address}:${port}: Name or service not known`);
    return found;
  }

  /** One short exec: kc-dial connects, says so and closes (no stream kept, nothing left open on the node). */
  async probeTcp(address: string, port: number, options: ExecOptions): Promise<void> {
    const ip = await this.addressOf(address, port, options);
    const ahead = this.dialled.get(`${ip} ${port}`);
    if (ahead === 'connected') return;
    if (ahead !== undefined) throw new TransportError('unreachable', `${address}:${port}: ${ahead}`);
    this.ahead?.learn(ip, port);
    const seconds = String(Math.max(1, Math.ceil(options.timeoutMs / 1000)));
    const out = await this.limiter.run(async () => {
      try {
        return await execInPod(this.api, this.target, ['kc-dial', 'probe', ip, String(port), seconds], { ...options, timeoutMs: options.timeoutMs + 5_000 });
      } catch (err: unknown) {
        throw transportError(err);
      }
    }, options.signal);
    if (out.exitCode === 0 && out.stderr.includes('kc-dial: connected')) return;
    const reason = dialFailure(out.stderr) ?? `kc-dial ended (exit ${out.exitCode})${out.stderr ? `: ${out.stderr.trim()}` : ''}`;
    throw new TransportError('unreachable', `${address}:${port}: ${reason}`);
  }

  connectUnix(path: string, options: ExecOptions): Promise<Duplex> {
    return this.dial(['kc-dial', 'unix', `${HOST_ROOT}${path}`], path, options);
  }

  /** Runs kc-dial in the pod; resolves with the connection once it says "connected", or rejects with its reason. */
  private async dial(command: string[], what: string, options: ExecOptions): Promise<Duplex> {
    const limit = deadline(options.signal, options.timeoutMs);
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    let said = '';
    let connected: (() => void) | undefined;
    const stderr = new Writable({
      write(chunk: Buffer, _enc, done) {
        said += chunk.toString('utf8');
        if (said.includes('kc-dial: connected')) connected?.();
        done();
      },
    });
    let exec: Awaited<ReturnType<typeof openExec>> | undefined;
    try {
      exec = await openExec(this.api, this.target, command, { stdin, stdout, stderr });
      const opened = exec;
      await new Promise<void>((resolve, reject) => {
        connected = resolve;
        if (said.includes('kc-dial: connected')) resolve();
        const onAbort = () => reject(options.signal.aborted ? new TransportError('interrupted', `${what}: interrupted`) : new TransportError('timeout', `${what}: timed out after ${options.timeoutMs} ms`));
        if (limit.signal.aborted) return onAbort();
        limit.signal.addEventListener('abort', onAbort, { once: true });
        void opened.ended.then((end) => {
          const reason = /kc-dial: [^:\n]+(?::\d+)?: ([^\n]+)/.exec(said)?.[1] ?? ('error' in end ? end.error.message : `kc-dial ended (exit ${end.exitCode})${said ? `: ${said.trim()}` : ''}`);
          reject(new TransportError('unreachable', `${what}: ${reason}`));
        });
      });
    } catch (err: unknown) {
      exec?.close();
      throw transportError(err);
    } finally {
      limit.clear();
    }
    const socket = exec;
    const duplex = new Duplex({
      read() {
        stdout.resume();
      },
      write(chunk: Buffer, _enc, done) {
        stdin.write(chunk, done);
      },
      final(done) {
        stdin.end();
        done();
      },
      destroy(err, done) {
        // Ends the connection the way a finished dial ends: stdin closed (kc-dial then half-closes the TCP
        // connection and exits when the other side is done), so the exec finishes with a status and the
        // API server and kubelet close its stream; the socket is closed only if that takes too long.
        // (Closing the WebSocket at once left the stream to the kubelet open in KWOK's emulation.)
        stdin.end();
        const timer = setTimeout(() => socket.close(), 2_000);
        void socket.ended.then(() => {
          clearTimeout(timer);
          stdout.destroy();
        });
        done(err);
      },
    });
    stdout.on('data', (c: Buffer) => {
      if (!duplex.push(c)) stdout.pause();
    });
    stdout.on('end', () => duplex.push(null));
    void socket.ended.then(() => duplex.push(null));
    return duplex;
  }

  async close(): Promise<void> {
    // The pod stays until the collection ends (the session deletes its namespace); nothing per node to close.
    this.onClose?.();
  }
}
