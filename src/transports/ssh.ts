// SSH transport (ssh2): one connection per host per run; scripts go to `sh -s` on stdin (through
// `sudo -n` for non-root users). Host keys are checked against known_hosts; jump hosts are shared.
import { existsSync, readFileSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { join } from 'node:path';
import type { AnyAuthMethod, Client as SshClient, ConnectConfig, ClientChannel } from 'ssh2';
import { localUser } from '../core/local-user.js';

type AuthMethod = AnyAuthMethod;
import { KnownHostsFile, KnownHostsFiles, knownHostsName } from './known-hosts.js';
import { type ExecOptions, type ExecResult, type RunningCommand, type Transport, TransportError } from './types.js';

type Ssh2 = typeof import('ssh2');
type ParsedKey = import('ssh2').ParsedKey;
let loaded: Ssh2 | undefined;
/** ssh2, loaded by the first connection: runs that reach no host over SSH don't pay for it (~14 MB of RSS, its WebAssembly). */
async function ssh2(): Promise<Ssh2> {
  return (loaded ??= (await import('ssh2')).default);
}

export type HostKeyPolicy = 'strict' | 'accept-new' | 'off';

export interface SshEndpoint {
  host: string;
  port: number;
  user: string;
  /** Keys offered in turn (missing files are passed over, as ssh does); none: ssh's default keys. */
  identityFiles?: string[];
  /** Offer only these keys, not the agent's (ssh's IdentitiesOnly). */
  identitiesOnly?: boolean;
  hostKeyPolicy: HostKeyPolicy;
  /** known_hosts files read as one (default ~/.ssh/known_hosts). */
  knownHostsFiles?: string[];
}

export interface SshTarget extends SshEndpoint {
  /** Name in reports (inventory name). */
  name: string;
  /** Jump hosts, nearest first, like `ssh -J a,b`. */
  jumps?: SshEndpoint[];
  /** Run the collector through `sudo -n` (default: when the user is not root). */
  become?: boolean;
  /** This host's connect timeout (ssh_config ConnectTimeout, Ansible's timeout), over the run's. */
  connectTimeoutMs?: number;
}

export interface SshSettings {
  connectTimeoutMs: number;
  /** From KUBECHECK_SSH_PASSWORD or a prompt; never from an inventory file. */
  password?: string;
  passphrase?: string;
  agent?: string;
}

/** ssh's default keys (those ssh2 can use), in ssh's order. */
const DEFAULT_KEYS = ['id_rsa', 'id_ecdsa', 'id_ed25519'];

/** ~ as ssh expands it: the passwd entry's home, not $HOME. */
export const expandHome = (path: string) => (path === '~' || path.startsWith('~/') ? join(localUser().homedir, path.slice(1)) : path);

/** `user@host:port` (user and port optional) as used by --hosts and proxyJump. */
export function parseEndpoint(text: string, defaults: { user: string; port: number }): { user: string; host: string; port: number } {
  const m = /^(?:([^@\s]+)@)?(\[[^\]]+\]|[^:\s]+)(?::(\d+))?$/.exec(text.trim());
  if (!m) throw new Error(`not a host: '${text}' (expected [user@]host[:port])`);
  return { user: m[1] ?? defaults.user, host: m[2].replace(/^\[|\]$/g, ''), port: m[3] ? Number(m[3]) : defaults.port };
}

function classify(err: unknown, where: string, hostKeyProblem: string | undefined): TransportError {
  if (hostKeyProblem) return new TransportError('hostkey', hostKeyProblem, { cause: err });
  const e = err as { code?: string; level?: string; message?: string };
  const msg = e.message ?? String(err);
  if (e.level === 'client-authentication') return new TransportError('auth', `authentication failed for ${where} (${msg})`, { cause: err });
  if (e.level === 'client-timeout' || /Timed out while waiting for handshake/.test(msg)) {
    return new TransportError('timeout', `no SSH handshake with ${where} in time`, { cause: err });
  }
  if (['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET'].includes(e.code ?? '')) {
    return new TransportError('unreachable', `cannot connect to ${where}: ${msg}`, { cause: err });
  }
  return new TransportError('unreachable', `SSH to ${where} failed: ${msg}`, { cause: err });
}

/**
 * A TCP connection whose writes within one tick leave in one writev: ssh2 writes every SSH packet
 * separately, and each write is a syscall (on a bridge, with the peer's packet processing billed to it).
 */
function coalescingSocket(host: string, port: number): Socket {
  const sock = tcpConnect({ host, port, noDelay: true });
  const write = sock.write.bind(sock) as (...args: unknown[]) => boolean;
  let corked = false;
  sock.write = ((...args: unknown[]) => {
    if (!corked) {
      corked = true;
      sock.cork();
      process.nextTick(() => {
        corked = false;
        sock.uncork();
      });
    }
    return write(...args);
  }) as Socket['write'];
  return sock;
}

/** The part of ssh2's client below its API that ignoreHostKeyAnnouncements reaches into (ssh2 1.x). */
interface Ssh2Internals {
  _protocol?: {
    _handlers?: { GLOBAL_REQUEST?: (p: unknown, name: string, wantReply: boolean, data: unknown) => void };
    requestSuccess?: () => void;
  };
}

/**
 * After authentication OpenSSH's sshd announces all its host keys (`hostkeys-00@openssh.com`, no reply
 * wanted), and ssh2 answers by asking the server to prove each one and verifying the proofs — a round
 * trip, a signature per key on the host and a verification each here — whether or not anyone uses them.
 * kubecheck does not (it checks the key of the key exchange against known_hosts), and OpenSSH's own
 * client asks only with UpdateHostKeys; so the announcement is acknowledged and nothing more. Other
 * global requests still go to ssh2. Called right after connect(), before any packet is read.
 */
export function ignoreHostKeyAnnouncements(client: SshClient): boolean {
  const proto = (client as unknown as Ssh2Internals)._protocol;
  const handlers = proto?._handlers;
  const original = handlers?.GLOBAL_REQUEST;
  if (!handlers || !original || !proto.requestSuccess) return false;
  handlers.GLOBAL_REQUEST = (p, name, wantReply, data) => {
    if (name !== 'hostkeys-00@openssh.com') return original(p, name, wantReply, data);
    if (wantReply) proto.requestSuccess!();
  };
  return true;
}

/**
 * Opens SSH connections for one run: reads known_hosts once, shares jump-host connections, and closes
 * everything it opened on close().
 */
export class SshConnector {
  private readonly knownHosts = new Map<string, KnownHostsFile>();
  private readonly jumpClients = new Map<string, Promise<SshClient>>();
  private readonly open = new Set<SshClient>();
  /** Private keys read and parsed once per run, not once per host (ssh2 parses a key given as bytes at every connection). */
  private readonly keys = new Map<string, ParsedKey>();
  /** How many TCP connections this run opened per endpoint (the benchmark reports it). */
  readonly connectionsOpened = new Map<string, number>();

  constructor(private readonly settings: SshSettings) {}

  private known(paths: string[] | undefined): KnownHostsFiles {
    return new KnownHostsFiles((paths?.length ? paths : ['~/.ssh/known_hosts']).map((p) => {
      const file = expandHome(p);
      let kh = this.knownHosts.get(file);
      if (!kh) this.knownHosts.set(file, (kh = new KnownHostsFile(file)));
      return kh;
    }));
  }

  /** The keys to offer, read and checked once per run; missing files are passed over, as ssh does. */
  private privateKeys(endpoint: SshEndpoint, utils: Ssh2['utils']): { keys: { path: string; key: ParsedKey }[]; missing: string[] } {
    const explicit = endpoint.identityFiles?.length ? endpoint.identityFiles.map(expandHome) : undefined;
    const candidates = explicit ?? DEFAULT_KEYS.map((k) => join(localUser().homedir, '.ssh', k));
    const keys: { path: string; key: ParsedKey }[] = [];
    const missing: string[] = [];
    for (const path of candidates) {
      const cached = this.keys.get(path);
      if (cached) {
        keys.push({ path, key: cached });
        continue;
      }
      if (!existsSync(path)) {
        missing.push(path);
        continue;
      }
      const parsed = utils.parseKey(readFileSync(path), this.settings.passphrase);
      if (parsed instanceof Error) {
        throw new TransportError('auth', `cannot use the private key ${path}: ${parsed.message}${/passphrase/i.test(parsed.message) ? ' (set KUBECHECK_SSH_PASSPHRASE)' : ''}`);
      }
      this.keys.set(path, parsed);
      keys.push({ path, key: parsed });
    }
    return { keys, missing: explicit ? missing : [] };
  }

  private async connect(endpoint: SshEndpoint, signal: AbortSignal, timeoutMs: number, sock?: NodeJS.ReadableStream): Promise<SshClient> {
    const where = `${endpoint.user}@${endpoint.host}:${endpoint.port}`;
    const { Client, utils } = await ssh2();
    const { keys, missing } = this.privateKeys(endpoint, utils);
    const kh = this.known(endpoint.knownHostsFiles);
    const name = knownHostsName(endpoint.host, endpoint.port);
    let hostKeyProblem: string | undefined;
    const username = endpoint.user;
    const methods: ConnectConfig['authHandler'] = [
      ...keys.map(({ key }) => ({ type: 'publickey' as const, username, key, ...(this.settings.passphrase ? { passphrase: this.settings.passphrase } : {}) })),
      ...(this.settings.agent && !endpoint.identitiesOnly ? [{ type: 'agent' as const, username, agent: this.settings.agent }] : []),
      ...(this.settings.password !== undefined ? [{ type: 'password' as const, username, password: this.settings.password }] : []),
    ] as AuthMethod[];
    if (methods.length === 0) {
      const tried = missing.length ? `${missing.join(', ')} ${missing.length > 1 ? 'do' : 'does'} not exist` : 'no key in ~/.ssh';
      throw new TransportError('auth', `no way to authenticate to ${where}: ${tried}, ${this.settings.agent ? 'IdentitiesOnly (agent not used)' : 'no ssh-agent'}, no KUBECHECK_SSH_PASSWORD`);
    }
    const types = endpoint.hostKeyPolicy === 'off' ? [] : kh.keyTypes(name);

    const config: ConnectConfig = {
      host: endpoint.host,
      port: endpoint.port,
      username,
      readyTimeout: timeoutMs,
      keepaliveInterval: 5_000,
      keepaliveCountMax: 3,
      authHandler: methods,
      sock: (sock ?? coalescingSocket(endpoint.host, endpoint.port)) as ConnectConfig['sock'],
      // Ask for a host key type we have on record, as OpenSSH does, so a known host is verified, not "unknown".
      ...(types.length ? { algorithms: { serverHostKey: types as NonNullable<ConnectConfig['algorithms']>['serverHostKey'] } } : {}),
      hostVerifier: (presented: Buffer) => {
        if (endpoint.hostKeyPolicy === 'off') return true;
        const verdict = kh.verify(name, presented);
        if (verdict.kind === 'match') return true;
        if (verdict.kind === 'mismatch') {
          hostKeyProblem = `HOST KEY MISMATCH for ${name}: the ${verdict.keyType} key it presented differs from ${verdict.path}:${verdict.line}. ` +
            'Someone may be intercepting the connection, or the host was reinstalled; if so, remove the old key with ' +
            `ssh-keygen -R ${name}${verdict.path !== expandHome('~/.ssh/known_hosts') ? ` -f ${verdict.path}` : ''}`;
          return false;
        }
        if (verdict.kind === 'revoked') {
          hostKeyProblem = `the host key of ${name} is marked @revoked in ${verdict.path}:${verdict.line}`;
          return false;
        }
        if (endpoint.hostKeyPolicy === 'accept-new') {
          kh.add(name, presented);
          return true;
        }
        hostKeyProblem = `the host key of ${name} is not in ${kh.path} (hostKeyPolicy strict): add it after checking its fingerprint ` +
          `(ssh-keyscan -p ${endpoint.port} ${endpoint.host} >> ${kh.path}), or use hostKeyPolicy: accept-new`;
        return false;
      },
    };

    const client = new Client();
    this.open.add(client);
    this.connectionsOpened.set(where, (this.connectionsOpened.get(where) ?? 0) + 1);
    return new Promise<SshClient>((resolve, reject) => {
      const onAbort = () => {
        client.end();
        reject(new TransportError('interrupted', `connecting to ${where} was interrupted`));
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      client
        .once('ready', () => {
          signal.removeEventListener('abort', onAbort);
          resolve(client);
        })
        .once('error', (err: Error) => {
          signal.removeEventListener('abort', onAbort);
          this.open.delete(client);
          client.end();
          reject(classify(err, where, hostKeyProblem));
        })
        .on('close', () => this.open.delete(client));
      client.connect(config);
      ignoreHostKeyAnnouncements(client);
    });
  }

  /** The connection to the last of `hops` (each reached through the one before), shared by every host behind it. */
  private jump(hops: SshEndpoint[], signal: AbortSignal, timeoutMs: number): Promise<SshClient> {
    const key = hops.map((h) => `${h.user}@${h.host}:${h.port}`).join(',');
    let jump = this.jumpClients.get(key);
    if (!jump) {
      const hop = hops[hops.length - 1];
      const spec = `${hop.user}@${hop.host}:${hop.port}`;
      jump = (async () => {
        const sock = hops.length > 1 ? await this.forward(await this.jump(hops.slice(0, -1), signal, timeoutMs), hops[hops.length - 2], hop, signal, timeoutMs) : undefined;
        return this.connect(hop, signal, timeoutMs, sock);
      })().catch((err: unknown) => {
        this.jumpClients.delete(key);
        const reason = err instanceof Error ? err.message : String(err);
        if (/^jump host /.test(reason)) throw err;
        throw new TransportError(err instanceof TransportError ? err.kind : 'unreachable', `jump host ${spec}: ${reason}`, { cause: err });
      });
      this.jumpClients.set(key, jump);
    }
    return jump;
  }

  /** A channel from a jump host to the next hop, bounded like a connect. */
  private forward(via: SshClient, viaEndpoint: SshEndpoint, to: { host: string; port: number }, signal: AbortSignal, timeoutMs: number): Promise<NodeJS.ReadableStream> {
    const jump = `jump host ${viaEndpoint.user}@${viaEndpoint.host}:${viaEndpoint.port}`;
    return new Promise<NodeJS.ReadableStream>((resolve, reject) => {
      const settle = (fn: () => void) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        fn();
      };
      const timer = setTimeout(() => settle(() => reject(new TransportError('timeout', `${jump} did not reach ${to.host}:${to.port} within ${timeoutMs} ms`))), timeoutMs);
      const onAbort = () => settle(() => reject(new TransportError('interrupted', `reaching ${to.host}:${to.port} through ${jump} was interrupted`)));
      signal.addEventListener('abort', onAbort, { once: true });
      via.forwardOut('127.0.0.1', 0, to.host, to.port, (err, stream) => settle(() => {
        if (err) reject(new TransportError('unreachable', `${jump} cannot reach ${to.host}:${to.port}: ${err.message}`, { cause: err }));
        else resolve(stream);
      }));
    });
  }

  /** Opens the one connection to a host for this run (through its jump hosts when it has them). */
  async openTransport(target: SshTarget, signal: AbortSignal): Promise<SshTransport> {
    const timeoutMs = target.connectTimeoutMs ?? this.settings.connectTimeoutMs;
    const hops = target.jumps ?? [];
    const sock = hops.length ? await this.forward(await this.jump(hops, signal, timeoutMs), hops[hops.length - 1], target, signal, timeoutMs) : undefined;
    const client = await this.connect(target, signal, timeoutMs, sock);
    return new SshTransport(target.name, client, target.become ?? target.user !== 'root');
  }

  async close(): Promise<void> {
    for (const c of this.open) c.end();
    this.open.clear();
    this.jumpClients.clear();
  }
}

export class SshTransport implements Transport {
  readonly via = 'ssh' as const;

  constructor(
    readonly host: string,
    private readonly client: SshClient,
    private readonly sudo: boolean,
  ) {}

  async exec(script: string, options: ExecOptions): Promise<ExecResult> {
    const running = this.run(this.sudo ? 'sudo -n sh -s' : 'sh -s', options);
    running.write(script);
    running.end();
    return running.result;
  }

  start(command: string, options: ExecOptions): Promise<RunningCommand> {
    return Promise.resolve(this.run(this.sudo ? `sudo -n sh -c '${command.replace(/'/g, `'\\''`)}'` : command, options));
  }

  /** One command on its own channel: stdin written as it goes, output gathered, bounded by the timeout. */
  private run(command: string, { timeoutMs, signal }: ExecOptions): RunningCommand {
    const sentAt = Date.now();
    let firstByteAt = 0;
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let settled = false;
    let channel: ClientChannel | undefined;
    const pending: (string | null)[] = [];
    // Lines as they come, and who waits for which.
    const lines: string[] = [];
    let partial = '';
    let ended: Error | undefined;
    const waiting: { index: number; resolve: (l: string) => void; reject: (e: Error) => void }[] = [];
    // Who waits for a marker line (until): each checks the lines so far, true once answered.
    let markers: (() => boolean)[] = [];
    const wake = () => {
      for (const w of waiting.splice(0)) {
        if (w.index < lines.length) w.resolve(lines[w.index]);
        else if (ended) w.reject(ended);
        else waiting.push(w);
      }
      if (markers.length) markers = markers.filter((seen) => !seen());
    };
    const lineFailed = (err: Error) => {
      ended = err;
      wake();
    };
    const result = new Promise<ExecResult>((resolve, reject) => {
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        fn();
      };
      const fail = (err: TransportError) => finish(() => {
        lineFailed(err);
        reject(err);
      });
      const timer = setTimeout(() => {
        this.client.end();
        fail(new TransportError('timeout', `the collector did not finish on ${this.host} within ${timeoutMs} ms`));
      }, timeoutMs);
      const onAbort = () => {
        this.client.end();
        fail(new TransportError('interrupted', 'interrupted'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.client.exec(command, (err, stream) => {
        if (err) return fail(new TransportError('exec', `cannot run a command on ${this.host}: ${err.message}`, { cause: err }));
        channel = stream;
        stream.on('data', (chunk: Buffer) => {
          if (!firstByteAt) firstByteAt = Date.now();
          stdout.push(chunk);
          if (chunk.includes(10)) {
            const parts = (partial + chunk.toString('utf8')).split('\n');
            partial = parts.pop() ?? '';
            lines.push(...parts);
            wake();
          } else partial += chunk.toString('utf8');
        });
        stream.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
        stream.on('close', (code: number | null) => {
          const err = Buffer.concat(stderr).toString('utf8');
          if (this.sudo && /sudo: (a password is required|a terminal is required|.*must have a tty)/.test(err)) {
            return fail(new TransportError('sudo', `sudo on ${this.host} asks for a password: allow the user to run sh without one (NOPASSWD in sudoers) or connect as root`));
          }
          if (this.sudo && /sudo: (command )?not found|sudo: not found/.test(err)) {
            return fail(new TransportError('sudo', `sudo is not installed on ${this.host}: connect as root or install sudo`));
          }
          finish(() => {
            const endedAt = Date.now();
            const out = Buffer.concat(stdout).toString('utf8');
            lineFailed(new TransportError('exec', `the command on ${this.host} ended (exit ${code}) before printing that line${err.trim() ? `: ${err.trim().slice(0, 300)}` : ''}`));
            resolve({ stdout: out, stderr: err, code, timing: { sentAt, firstByteAt: firstByteAt || endedAt, endedAt } });
          });
        });
        for (const p of pending.splice(0)) {
          if (p === null) stream.end();
          else stream.write(p);
        }
      });
    });
    result.catch(() => undefined);
    return {
      line: (index) => new Promise<string>((resolve, reject) => {
        waiting.push({ index, resolve, reject });
        wake();
      }),
      result,
      write: (text) => (channel ? channel.write(text) : pending.push(text)),
      end: () => (channel ? channel.end() : pending.push(null)),
      until: (marker) => new Promise((resolve, reject) => {
        const seen = () => {
          const index = lines.lastIndexOf(marker);
          if (index < 0) return false;
          // The text before the marker line, decoded from the bytes as exec's stdout is.
          const all = Buffer.concat(stdout);
          const at = all.lastIndexOf(`\n${marker}\n`);
          const text = at >= 0 ? all.subarray(0, at + 1).toString('utf8') : '';
          resolve({ stdout: text, stderr: Buffer.concat(stderr).toString('utf8'), code: null, timing: { sentAt, firstByteAt: firstByteAt || Date.now(), endedAt: Date.now() }, index });
          return true;
        };
        if (seen()) return;
        markers.push(seen);
        // Ended without it: everything it printed (the caller sees the marker missing), or its failure.
        result.then((r) => resolve({ ...r, index: -1 }), reject);
      }),
    };
  }

  /** A channel that settles within the timeout: opened, or the host's reason (sshd's open-failure text). */
  private channel(open: (cb: (err: Error | undefined, stream: ClientChannel) => void) => void, what: string, { timeoutMs, signal }: ExecOptions): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const done = (err?: Error, stream?: ClientChannel) => {
        if (settled) {
          stream?.destroy();
          return;
        }
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve(stream!);
      };
      const onAbort = () => done(new TransportError('interrupted', `${what}: interrupted`));
      const timer = setTimeout(() => done(new TransportError('timeout', `${what}: timed out after ${timeoutMs} ms`)), timeoutMs);
      signal.addEventListener('abort', onAbort, { once: true });
      open((err, stream) => done(err ? new TransportError('unreachable', `${what}: ${err.message.replace(/^\(SSH\) Channel open failure: /, '')}`, { cause: err }) : undefined, stream));
    });
  }

  connectTcp(address: string, port: number, options: ExecOptions): Promise<ClientChannel> {
    return this.channel((cb) => this.client.forwardOut('127.0.0.1', 0, address, port, cb), `${address}:${port}`, options);
  }

  connectUnix(path: string, options: ExecOptions): Promise<ClientChannel> {
    return this.channel((cb) => this.client.openssh_forwardOutStreamLocal(path, cb), path, options);
  }

  async close(): Promise<void> {
    this.client.end();
  }
}
