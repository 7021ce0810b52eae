// SSH transport (ssh2): one connection per host per run; scripts go to `sh -s` on stdin (through
// `sudo -n` for non-root users). Host keys are checked against known_hosts; jump hosts are shared.
import { existsSync, readFileSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import type { AuthenticationType, ConnectConfig } from 'ssh2';
import { KnownHostsFile, knownHostsName } from './known-hosts.js';
import { type ExecOptions, type ExecResult, type Transport, TransportError } from './types.js';

const { Client, utils } = ssh2;
type SshClient = InstanceType<typeof Client>;

export type HostKeyPolicy = 'strict' | 'accept-new' | 'off';

export interface SshEndpoint {
  host: string;
  port: number;
  user: string;
  identityFile?: string;
}

export interface SshTarget extends SshEndpoint {
  /** Name in reports (inventory name). */
  name: string;
  hostKeyPolicy: HostKeyPolicy;
  knownHostsFile?: string;
  /** `user@host:port` of a jump host, like `ssh -J`. */
  proxyJump?: string;
  /** Run the collector through `sudo -n` (default: when the user is not root). */
  become?: boolean;
}

export interface SshSettings {
  connectTimeoutMs: number;
  /** From KUBECHECK_SSH_PASSWORD or a prompt; never from an inventory file. */
  password?: string;
  passphrase?: string;
  agent?: string;
}

const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

export const expandHome = (path: string) => (path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path);

/** `user@host:port` (user and port optional) as used by --hosts and proxyJump. */
export function parseEndpoint(text: string, defaults: { user: string; port: number }): SshEndpoint {
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

/**
 * Opens SSH connections for one run: reads known_hosts once, shares jump-host connections, and closes
 * everything it opened on close().
 */
export class SshConnector {
  private readonly knownHosts = new Map<string, KnownHostsFile>();
  private readonly jumps = new Map<string, Promise<SshClient>>();
  private readonly open = new Set<SshClient>();
  /** Private keys read and checked once per run, not once per host. */
  private readonly keys = new Map<string, Buffer>();
  /** How many TCP connections this run opened per endpoint (the benchmark reports it). */
  readonly connectionsOpened = new Map<string, number>();

  constructor(private readonly settings: SshSettings) {}

  private known(path: string | undefined): KnownHostsFile {
    const file = expandHome(path ?? '~/.ssh/known_hosts');
    let kh = this.knownHosts.get(file);
    if (!kh) this.knownHosts.set(file, (kh = new KnownHostsFile(file)));
    return kh;
  }

  private privateKey(endpoint: SshEndpoint): { key?: Buffer; tried: string } {
    const candidates = endpoint.identityFile ? [expandHome(endpoint.identityFile)] : DEFAULT_KEYS.map((k) => join(homedir(), '.ssh', k));
    for (const path of candidates) {
      const cached = this.keys.get(path);
      if (cached) return { key: cached, tried: path };
      if (!existsSync(path)) continue;
      const key = readFileSync(path);
      const parsed = utils.parseKey(key, this.settings.passphrase);
      if (parsed instanceof Error) {
        throw new TransportError('auth', `cannot use the private key ${path}: ${parsed.message}${/passphrase/i.test(parsed.message) ? ' (set KUBECHECK_SSH_PASSPHRASE)' : ''}`);
      }
      this.keys.set(path, key);
      return { key, tried: path };
    }
    if (endpoint.identityFile) throw new TransportError('auth', `the identity file ${endpoint.identityFile} does not exist`);
    return { tried: 'no key in ~/.ssh' };
  }

  private async connect(endpoint: SshEndpoint, target: Pick<SshTarget, 'hostKeyPolicy' | 'knownHostsFile'>, signal: AbortSignal, sock?: NodeJS.ReadableStream): Promise<SshClient> {
    const where = `${endpoint.user}@${endpoint.host}:${endpoint.port}`;
    const { key, tried } = this.privateKey(endpoint);
    const kh = this.known(target.knownHostsFile);
    const name = knownHostsName(endpoint.host, endpoint.port);
    let hostKeyProblem: string | undefined;
    const methods: AuthenticationType[] = [];
    if (key) methods.push('publickey');
    if (this.settings.agent) methods.push('agent');
    if (this.settings.password !== undefined) methods.push('password');
    if (methods.length === 0) throw new TransportError('auth', `no way to authenticate to ${where}: ${tried}, no ssh-agent, no KUBECHECK_SSH_PASSWORD`);
    const types = target.hostKeyPolicy === 'off' ? [] : kh.keyTypes(name);

    const config: ConnectConfig = {
      host: endpoint.host,
      port: endpoint.port,
      username: endpoint.user,
      readyTimeout: this.settings.connectTimeoutMs,
      keepaliveInterval: 5_000,
      keepaliveCountMax: 3,
      authHandler: methods,
      ...(key ? { privateKey: key, ...(this.settings.passphrase ? { passphrase: this.settings.passphrase } : {}) } : {}),
      ...(this.settings.agent ? { agent: this.settings.agent } : {}),
      ...(this.settings.password !== undefined ? { password: this.settings.password } : {}),
      sock: (sock ?? coalescingSocket(endpoint.host, endpoint.port)) as ConnectConfig['sock'],
      // Ask for a host key type we have on record, as OpenSSH does, so a known host is verified, not "unknown".
      ...(types.length ? { algorithms: { serverHostKey: types as NonNullable<ConnectConfig['algorithms']>['serverHostKey'] } } : {}),
      hostVerifier: (presented: Buffer) => {
        if (target.hostKeyPolicy === 'off') return true;
        const verdict = kh.verify(name, presented);
        if (verdict.kind === 'match') return true;
        if (verdict.kind === 'mismatch') {
          hostKeyProblem = `HOST KEY MISMATCH for ${name}: the ${verdict.keyType} key it presented differs from ${kh.path}:${verdict.line}. ` +
            'Someone may be intercepting the connection, or the host was reinstalled; if so, remove the old key with ' +
            `ssh-keygen -R ${name}${target.knownHostsFile ? ` -f ${kh.path}` : ''}`;
          return false;
        }
        if (verdict.kind === 'revoked') {
          hostKeyProblem = `the host key of ${name} is marked @revoked in ${kh.path}:${verdict.line}`;
          return false;
        }
        if (target.hostKeyPolicy === 'accept-new') {
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
    });
  }

  private jump(spec: string, target: SshTarget, signal: AbortSignal): Promise<SshClient> {
    let jump = this.jumps.get(spec);
    if (!jump) {
      const endpoint = parseEndpoint(spec, { user: target.user, port: 22 });
      jump = this.connect({ ...endpoint, ...(target.identityFile ? { identityFile: target.identityFile } : {}) }, target, signal).catch((err: unknown) => {
        this.jumps.delete(spec);
        const reason = err instanceof Error ? err.message : String(err);
        throw new TransportError(err instanceof TransportError ? err.kind : 'unreachable', `jump host ${spec}: ${reason}`, { cause: err });
      });
      this.jumps.set(spec, jump);
    }
    return jump;
  }

  /** Opens the one connection to a host for this run (through its jump host when it has one). */
  async openTransport(target: SshTarget, signal: AbortSignal): Promise<SshTransport> {
    let sock: NodeJS.ReadableStream | undefined;
    if (target.proxyJump) {
      const jump = await this.jump(target.proxyJump, target, signal);
      sock = await new Promise<NodeJS.ReadableStream>((resolve, reject) => {
        jump.forwardOut('127.0.0.1', 0, target.host, target.port, (err, stream) => {
          if (err) reject(new TransportError('unreachable', `jump host ${target.proxyJump} cannot reach ${target.host}:${target.port}: ${err.message}`, { cause: err }));
          else resolve(stream);
        });
      });
    }
    const client = await this.connect(target, target, signal, sock);
    return new SshTransport(target.name, client, target.become ?? target.user !== 'root');
  }

  async close(): Promise<void> {
    for (const c of this.open) c.end();
    this.open.clear();
    this.jumps.clear();
  }
}

export class SshTransport implements Transport {
  constructor(
    readonly host: string,
    private readonly client: SshClient,
    private readonly sudo: boolean,
  ) {}

  exec(script: string, { timeoutMs, signal }: ExecOptions): Promise<ExecResult> {
    const command = this.sudo ? 'sudo -n sh -s' : 'sh -s';
    return new Promise<ExecResult>((resolve, reject) => {
      const sentAt = Date.now();
      let firstByteAt = 0;
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let settled = false;
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        fn();
      };
      const timer = setTimeout(() => finish(() => {
        this.client.end();
        reject(new TransportError('timeout', `the collector did not finish on ${this.host} within ${timeoutMs} ms`));
      }), timeoutMs);
      const onAbort = () => finish(() => {
        this.client.end();
        reject(new TransportError('interrupted', 'interrupted'));
      });
      signal.addEventListener('abort', onAbort, { once: true });
      this.client.exec(command, (err, stream) => {
        if (err) return finish(() => reject(new TransportError('exec', `cannot run a command on ${this.host}: ${err.message}`, { cause: err })));
        stream.on('data', (chunk: Buffer) => {
          if (!firstByteAt) firstByteAt = Date.now();
          stdout.push(chunk);
        });
        stream.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
        stream.on('close', (code: number | null) => finish(() => {
          const err = Buffer.concat(stderr).toString('utf8');
          if (this.sudo && /sudo: (a password is required|a terminal is required|.*must have a tty)/.test(err)) {
            reject(new TransportError('sudo', `sudo on ${this.host} asks for a password: allow the user to run sh without one (NOPASSWD in sudoers) or connect as root`));
            return;
          }
          if (this.sudo && /sudo: (command )?not found|sudo: not found/.test(err)) {
            reject(new TransportError('sudo', `sudo is not installed on ${this.host}: connect as root or install sudo`));
            return;
          }
          const endedAt = Date.now();
          resolve({ stdout: Buffer.concat(stdout).toString('utf8'), stderr: err, code, timing: { sentAt, firstByteAt: firstByteAt || endedAt, endedAt } });
        }));
        stream.end(script);
      });
    });
  }

  async close(): Promise<void> {
    this.client.end();
  }
}
