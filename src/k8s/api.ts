// Cluster access: kubeconfig (--kubeconfig, --context, KUBECONFIG, in-cluster) through client-node, and
// plain HTTPS requests with its credentials. Lists are paginated and projected item by item, so a cluster
// with 50,000 pods never sits in memory as full objects.
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { request as httpRequest } from 'node:http';
import { existsSync } from 'node:fs';
import type { KubeConfig } from '@kubernetes/client-node';
import { InputError } from '../core/errors.js';

export interface ApiResponse {
  status: number;
  body: string;
}

/** A list that may have been denied: an `error` result names the missing permission. */
export type { Listed } from '../core/cluster.js';
import type { Listed } from '../core/cluster.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly reason?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface ConnectOptions {
  kubeconfig?: string;
  context?: string;
  /** Per request. */
  timeoutMs?: number;
}

/** Loads the kubeconfig like kubectl does; a bad file or unknown context is an input error (exit 2). */
export async function loadKubeConfig(options: ConnectOptions): Promise<KubeConfig> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  const file = options.kubeconfig;
  try {
    if (file) {
      if (!existsSync(file)) throw new InputError([{ file, message: 'the kubeconfig does not exist' }]);
      kc.loadFromFile(file);
    } else {
      kc.loadFromDefault();
    }
  } catch (err: unknown) {
    if (err instanceof InputError) throw err;
    throw new InputError([{ file: file ?? process.env.KUBECONFIG ?? '~/.kube/config', message: `not a usable kubeconfig: ${(err as Error).message}` }]);
  }
  if (options.context) {
    if (!kc.getContextObject(options.context)) {
      throw new InputError([{ message: `--context ${options.context}: no such context (have: ${kc.contexts.map((c) => c.name).join(', ') || 'none'})` }]);
    }
    kc.setCurrentContext(options.context);
  }
  if (!kc.getCurrentCluster()) {
    throw new InputError([{ file: file ?? process.env.KUBECONFIG ?? '~/.kube/config', message: 'no cluster: the kubeconfig has no current context (use --context)' }]);
  }
  return kc;
}

export class KubeApi {
  readonly server: URL;
  /** How many list requests were made per resource path (benchmarks and tests check "listed once"). */
  readonly listCalls = new Map<string, number>();
  /** How many requests were made, by kind (GET, POST, DELETE, WATCH, EXEC…), for the benchmarks. */
  readonly requestCounts = new Map<string, number>();

  /** Counts one request of this kind. */
  count(kind: string): void {
    this.requestCounts.set(kind, (this.requestCounts.get(kind) ?? 0) + 1);
  }

  private constructor(
    readonly kc: KubeConfig,
    private readonly base: RequestOptions,
    private readonly timeoutMs: number,
  ) {
    this.server = new URL(kc.getCurrentCluster()!.server);
  }

  static async connect(options: ConnectOptions): Promise<KubeApi> {
    const kc = await loadKubeConfig(options);
    const base: RequestOptions = {};
    await kc.applyToHTTPSOptions(base);
    return new KubeApi(kc, base, options.timeoutMs ?? 30_000);
  }

  /** Who the requests run as, for messages. */
  get user(): string {
    return this.kc.getCurrentUser()?.name ?? 'unknown user';
  }

  request(method: string, path: string, options: { signal?: AbortSignal; accept?: string; body?: string; contentType?: string; timeoutMs?: number } = {}): Promise<ApiResponse> {
    const url = new URL(path, this.server);
    const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    this.count(method);
    return new Promise<ApiResponse>((resolve, reject) => {
      const req = send(url, {
        ...this.base,
        method,
        headers: {
          ...(this.base.headers ?? {}),
          Accept: options.accept ?? 'application/json',
          // Content-Length always: Node sends a DELETE's body unframed otherwise (no chunked encoding for
          // DELETE), and the API server then reads no DeleteOptions at all (gracePeriodSeconds ignored).
          ...(options.body !== undefined ? { 'Content-Type': options.contentType ?? 'application/json', 'Content-Length': Buffer.byteLength(options.body) } : {}),
        },
        ...(options.signal ? { signal: options.signal } : {}),
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.setTimeout(timeoutMs, () => req.destroy(new ApiError(0, `${method} ${url.pathname} timed out after ${timeoutMs} ms`)));
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (err instanceof ApiError) reject(err);
        else if (err.name === 'AbortError') reject(new ApiError(0, 'interrupted'));
        else reject(new ApiError(0, `cannot reach the API server ${this.server.origin}: ${err.code ?? err.message}`, err.code));
      });
      if (options.body !== undefined) req.write(options.body);
      req.end();
    });
  }

  /** GET returning parsed JSON; non-2xx becomes an ApiError carrying the server's message. */
  async getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
    const res = await this.request('GET', path, signal ? { signal } : {});
    return parseOrThrow<T>(res, `GET ${path}`);
  }

  async send<T>(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body: unknown, signal?: AbortSignal, contentType?: string): Promise<T> {
    const res = await this.request(method, path, {
      ...(signal ? { signal } : {}),
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      ...(contentType ? { contentType } : {}),
    });
    return parseOrThrow<T>(res, `${method} ${path}`);
  }

  /**
   * Watches a collection: calls `onEvent` for each event until it returns true ('stopped'), the server
   * closes the stream ('closed': watch again from the last version seen), the version expired ('gone':
   * list again), or `signal` aborts (an ApiError 'interrupted'). Bookmarks carry the latest version.
   */
  watch<T extends { metadata?: { resourceVersion?: string } }>(path: string, onEvent: (event: WatchEvent<T>) => boolean | void, options: WatchOptions = {}): Promise<{ end: WatchEnd; resourceVersion?: string }> {
    const q = new URLSearchParams({ ...(options.query ?? {}), watch: '1', allowWatchBookmarks: 'true', timeoutSeconds: String(options.timeoutSeconds ?? 60) });
    if (options.resourceVersion) q.set('resourceVersion', options.resourceVersion);
    const url = new URL(`${path}?${q}`, this.server);
    const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
    let version = options.resourceVersion;
    this.count('WATCH');
    return new Promise((resolve, reject) => {
      let settled = false;
      // A destroyed response may emit neither 'end' nor 'error': the abort settles the watch itself.
      const onAbort = () => finish(new ApiError(0, 'interrupted'));
      const finish = (outcome: { end: WatchEnd; resourceVersion?: string } | Error) => {
        if (settled) return;
        settled = true;
        options.signal?.removeEventListener('abort', onAbort);
        req.destroy();
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome);
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const req = send(url, { ...this.base, method: 'GET', headers: { ...(this.base.headers ?? {}), Accept: 'application/json' }, ...(options.signal ? { signal: options.signal } : {}) }, (res) => {
        if ((res.statusCode ?? 0) >= 300) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            try {
              parseOrThrow({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }, `WATCH ${path}`);
            } catch (err: unknown) {
              finish(err instanceof ApiError && err.status === 410 ? { end: 'gone' } : (err as Error));
            }
          });
          return;
        }
        let buffered = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffered += chunk;
          let nl: number;
          while ((nl = buffered.indexOf('\n')) >= 0 && !settled) {
            const line = buffered.slice(0, nl).trim();
            buffered = buffered.slice(nl + 1);
            if (!line) continue;
            let event: WatchEvent<T>;
            try {
              event = JSON.parse(line) as WatchEvent<T>;
            } catch {
              finish(new ApiError(0, `WATCH ${path}: the server sent something that is not a watch event: ${line.slice(0, 120)}`));
              return;
            }
            if (event.type === 'ERROR') {
              const status = event.object as { code?: number; message?: string };
              finish(status.code === 410 ? { end: 'gone' } : new ApiError(status.code ?? 0, `WATCH ${path}: ${status.message ?? 'error event'}`));
              return;
            }
            version = event.object.metadata?.resourceVersion ?? version;
            if (event.type === 'BOOKMARK') continue;
            if (onEvent(event)) {
              finish({ end: 'stopped', ...(version ? { resourceVersion: version } : {}) });
              return;
            }
          }
        });
        res.on('end', () => finish({ end: 'closed', ...(version ? { resourceVersion: version } : {}) }));
        res.on('close', () => finish({ end: 'closed', ...(version ? { resourceVersion: version } : {}) }));
        res.on('error', (err) => finish(err));
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (err.name === 'AbortError') finish(new ApiError(0, 'interrupted'));
        else finish(new ApiError(0, `cannot reach the API server ${this.server.origin}: ${err.code ?? err.message}`, err.code));
      });
      req.end();
    });
  }

  /**
   * A collection as one stream: a `LIST` event with every item, then each change from that version on.
   * The watch is opened again when the server closes it, and the collection listed again (another
   * `LIST`) when the version expired. Ends only by `signal` (an ApiError 'interrupted') or a failure;
   * a consumer that stops iterating closes the watch.
   */
  async *listWatch<T extends { metadata?: { resourceVersion?: string } }>(path: string, options: { query?: Record<string, string>; signal?: AbortSignal; timeoutSeconds?: number } = {}): AsyncGenerator<ListWatchEvent<T>> {
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const query = options.query ?? {};
    try {
      for (;;) {
        const q = new URLSearchParams(query);
        const list = await this.getJson<{ metadata: { resourceVersion: string }; items: T[] }>(`${path}${q.size ? `?${q}` : ''}`, stop.signal);
        yield { type: 'LIST', items: list.items };
        let version: string | undefined = list.metadata.resourceVersion;
        for (;;) {
          const queue: WatchEvent<T>[] = [];
          let wake: (() => void) | undefined;
          let ended: { end: WatchEnd; resourceVersion?: string } | Error | undefined;
          void this.watch<T>(path, (e) => {
            queue.push(e);
            wake?.();
          }, { query, signal: stop.signal, ...(options.timeoutSeconds ? { timeoutSeconds: options.timeoutSeconds } : {}), ...(version ? { resourceVersion: version } : {}) })
            .then((r) => (ended = r), (e: unknown) => (ended = e instanceof Error ? e : new Error(String(e))))
            .finally(() => wake?.());
          while (!ended || queue.length) {
            const next = queue.shift();
            if (!next) {
              await new Promise<void>((r) => (wake = r));
              continue;
            }
            version = next.object.metadata?.resourceVersion ?? version;
            yield next;
          }
          if (ended instanceof Error) throw ended;
          if (ended.end === 'gone') break;
          version = ended.resourceVersion ?? version;
        }
      }
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      stop.abort();
    }
  }

  /**
   * Lists a collection page by page (limit/continue), keeping only what `project` returns for each
   * item. A 403 or 401 becomes a `Listed` failure, not an exception.
   */
  async list<T, P>(path: string, project: (item: T) => P, options: { pageSize?: number; signal?: AbortSignal; query?: Record<string, string> } = {}): Promise<Listed<P>> {
    const items: P[] = [];
    let cont = '';
    this.listCalls.set(path, (this.listCalls.get(path) ?? 0) + 1);
    do {
      const q = new URLSearchParams({ ...(options.query ?? {}), limit: String(options.pageSize ?? 500) });
      if (cont) q.set('continue', cont);
      let page: { items?: T[]; metadata?: { continue?: string } };
      try {
        page = await this.getJson(`${path}?${q}`, options.signal);
      } catch (err: unknown) {
        if (err instanceof ApiError && (err.status === 403 || err.status === 401)) {
          return { ok: false, forbidden: true, detail: err.message };
        }
        if (err instanceof ApiError && err.status === 410 && cont) {
          // The continue token expired mid-list (etcd compaction): start over once, without pagination state.
          cont = '';
          items.length = 0;
          continue;
        }
        return { ok: false, forbidden: false, detail: err instanceof Error ? err.message : String(err) };
      }
      for (const item of page.items ?? []) items.push(project(item));
      cont = page.metadata?.continue ?? '';
    } while (cont);
    return { ok: true, items };
  }
}

/** One event of a watch stream. */
export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

/** What `listWatch` yields: the whole collection (first, and after a relist), then its changes. */
export type ListWatchEvent<T> = { type: 'LIST'; items: T[] } | WatchEvent<T>;

/** How a watch ended: the handler asked to stop, the server closed the stream, or the version is too old (relist). */
export type WatchEnd = 'stopped' | 'closed' | 'gone';

export interface WatchOptions {
  /** Start after this version (from a list); events before it are not replayed. */
  resourceVersion?: string;
  query?: Record<string, string>;
  signal?: AbortSignal;
  /** How long the server keeps the stream open before closing it (the caller watches again). */
  timeoutSeconds?: number;
}

function parseOrThrow<T>(res: ApiResponse, what: string): T {
  if (res.status >= 200 && res.status < 300) return (res.body ? JSON.parse(res.body) : {}) as T;
  let message = res.body.trim().slice(0, 300);
  let reason: string | undefined;
  try {
    const status = JSON.parse(res.body) as { message?: string; reason?: string };
    message = status.message ?? message;
    reason = status.reason;
  } catch {
    // not a Status object: keep the text
  }
  const hint = res.status === 401 ? ' (the credentials were rejected)' : '';
  throw new ApiError(res.status, `${what}: HTTP ${res.status}: ${message}${hint}`, reason);
}
