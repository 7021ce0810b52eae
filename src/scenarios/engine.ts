// The scenario engine: named steps, each bounded by its own timeout and the run's signal; waits that
// follow the API through watches; a namespace of its own, created first and always deleted last (after
// a pass, a failure, a timeout or Ctrl-C); evidence (events, pod states) gathered before the cleanup.
import { randomBytes } from 'node:crypto';
import { ApiError, type KubeApi } from '../k8s/api.js';
import { ExecError, execInPod, type ExecOutput } from '../k8s/exec.js';
import type { Finding, StepRecord, WorkloadContext } from '../core/types.js';
import { MANAGED_BY, removeLeftovers } from '../k8s/managed.js';
import { deadline } from '../core/pool.js';
import { collectionOf, prepareManifests, type Manifest } from './manifests.js';

/** The expectation did not hold: the scenario fails at this step with this reason. */
export class ExpectationFailed extends Error {
  override name = 'ExpectationFailed';
}

/** A wait ran out of time; carries the last state seen so the report says how far it got. */
export class WaitTimedOut extends Error {
  override name = 'WaitTimedOut';
}

class Interrupted extends Error {
  override name = 'Interrupted';
}

/** The container never took an exec within the step's time: nothing could be verified in it. */
class ExecUnavailable extends Error {
  override name = 'ExecUnavailable';
}

export interface Judged<V> {
  done: boolean;
  /** What was seen, for the timeout message ("2/3 replicas available"). */
  state: string;
  value?: V;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;

interface Metadata {
  metadata?: { name?: string; resourceVersion?: string; deletionTimestamp?: string };
}

export class Scenario {
  readonly namespace: string;
  readonly steps: StepRecord[] = [];
  /** Whether the namespace may exist: set before asking for it, cleared only when the API said no. */
  mayExist = false;
  constructor(
    readonly id: string,
    private readonly ctx: WorkloadContext<KubeApi>,
  ) {
    this.namespace = `kubecheck-${id.replace(/^workload\./, '')}-${randomBytes(3).toString('hex')}`;
  }

  get api(): KubeApi {
    return this.ctx.api;
  }

  /** The timeout of steps that only create, change or read something (workloads.stepTimeout). */
  get quick(): number {
    return this.ctx.settings.stepTimeout ?? 60;
  }

  /**
   * Runs one named step within `timeoutSeconds` (and the run's signal); records its outcome and time.
   * `fn` returns the step's note for the report, or an object with a note and a value.
   */
  async step<T = void>(name: string, timeoutSeconds: number, fn: (signal: AbortSignal) => Promise<{ note?: string; value: T } | string | void>, options: { detached?: boolean } = {}): Promise<T> {
    const timeoutMs = timeoutSeconds * 1000;
    // A detached step (the cleanup) runs on its own clock only: after Ctrl-C it must still run.
    const parent = options.detached ? new AbortController().signal : this.ctx.signal;
    const limit = deadline(parent, timeoutMs);
    const signal = limit.signal;
    const started = performance.now();
    const record = (status: StepRecord['status'], message?: string) =>
      this.steps.push({ name, status, durationMs: Math.round(performance.now() - started), ...(message ? { message } : {}) });
    try {
      const out = await fn(signal);
      if (parent.aborted) throw new Interrupted('interrupted');
      const note = typeof out === 'string' ? out : out && typeof out === 'object' ? out.note : undefined;
      record('pass', note);
      return (out && typeof out === 'object' ? out.value : undefined) as T;
    } catch (err: unknown) {
      const reason = this.explain(err, signal, timeoutMs, parent);
      record(reason.status, reason.message);
      throw new StepError(name, reason.status, reason.message, { cause: err });
    } finally {
      limit.clear();
    }
  }

  private explain(err: unknown, signal: AbortSignal, timeoutMs: number, parent: AbortSignal): { status: 'fail' | 'error'; message: string } {
    if (parent.aborted) return { status: 'error', message: 'interrupted' };
    if (err instanceof ExpectationFailed || err instanceof WaitTimedOut) return { status: 'fail', message: err.message };
    if (err instanceof ExecUnavailable) return { status: 'error', message: err.message };
    if (signal.aborted) return { status: 'fail', message: `did not finish within ${seconds(timeoutMs)}` };
    if (err instanceof ApiError && (err.status === 403 || err.status === 401)) return { status: 'error', message: `denied: ${err.message} (deploy/rbac/kubecheck-scenarios.yaml lists what scenarios need)` };
    return { status: 'error', message: err instanceof Error ? err.message : String(err) };
  }

  /** Creates the manifests in this scenario's namespace (labelled, settings applied), in order. */
  async create(manifests: readonly Manifest[], signal: AbortSignal): Promise<void> {
    for (const m of prepareManifests(manifests, this.namespace, this.ctx.settings, this.id)) await this.api.send('POST', collectionOf(m), m, signal);
  }

  async patch(path: string, body: unknown, signal: AbortSignal): Promise<void> {
    await this.api.send('PATCH', path, body, signal, 'application/merge-patch+json');
  }

  /**
   * Waits until `judge` says done over the collection's current items: one list, then a watch from
   * that version (watched again when the server closes it, listed again when the version expires).
   * On timeout it throws WaitTimedOut with the last state seen.
   */
  async waitFor<T extends Metadata, V = true>(
    what: string,
    collection: string,
    query: Record<string, string>,
    judge: (items: T[]) => Judged<V>,
    signal: AbortSignal,
  ): Promise<V> {
    let last = 'nothing seen yet';
    const started = performance.now();
    const items = new Map<string, T>();
    try {
      for await (const e of this.api.listWatch<T>(collection, { query, signal, timeoutSeconds: 30 })) {
        if (e.type === 'LIST') {
          items.clear();
          for (const i of e.items) items.set(i.metadata?.name ?? '', i);
        } else if (e.type === 'DELETED') {
          items.delete(e.object.metadata?.name ?? '');
        } else {
          items.set(e.object.metadata?.name ?? '', e.object);
        }
        const verdict = judge([...items.values()]);
        if (verdict.done) return verdict.value as V;
        last = verdict.state;
      }
      throw new Error(`watching ${collection} ended`);
    } catch (err: unknown) {
      if (signal.aborted && !this.ctx.signal.aborted) throw new WaitTimedOut(`timed out after ${seconds(performance.now() - started)} waiting for ${what}; last seen: ${last}`);
      throw err;
    }
  }

  /**
   * Runs `sh -c SCRIPT ARGS…` in a pod's container. A container that cannot take an exec yet (it just
   * started) is tried again until the step's time is up; a command that ran returns its exit code.
   */
  async exec(pod: string, container: string, script: string, args: string[], signal: AbortSignal, timeoutMs = 30_000): Promise<ExecOutput> {
    for (let delay = 250; ; delay = Math.min(delay * 2, 2000)) {
      try {
        return await execInPod(this.api, { namespace: this.namespace, pod, container }, ['sh', '-c', script, 'sh', ...args], { timeoutMs, signal });
      } catch (err: unknown) {
        if (!(err instanceof ExecError) || err.timedOut) throw err;
        if (!signal.aborted) await new Promise((r) => setTimeout(r, delay));
        if (signal.aborted) throw new ExecUnavailable(`no exec possible in pod ${pod} before the step's time ran out; last error: ${err.message}`);
      }
    }
  }

  /** What the namespace shows when something went wrong: recent events and every pod's state. */
  async evidence(): Promise<Record<string, string>> {
    // Its own clock: evidence is gathered after the step's signal has fired.
    const signal = AbortSignal.timeout(10_000);
    const out: Record<string, string> = {};
    try {
      const events = await this.api.getJson<{ items: RawEvent[] }>(`/api/v1/namespaces/${this.namespace}/events`, signal);
      const lines = events.items
        .sort((a, b) => whenOf(a).localeCompare(whenOf(b)))
        .slice(-15)
        .map((e) => `${e.type ?? ''} ${e.reason ?? ''} ${e.involvedObject?.kind ?? ''}/${e.involvedObject?.name ?? ''}: ${(e.message ?? '').trim()}${(e.count ?? 1) > 1 ? ` (x${e.count})` : ''}`);
      if (lines.length) out.events = lines.join('\n');
    } catch (err: unknown) {
      out.events = `could not list events: ${err instanceof Error ? err.message : String(err)}`;
    }
    try {
      const pods = await this.api.getJson<{ items: RawPod[] }>(`/api/v1/namespaces/${this.namespace}/pods`, signal);
      const lines = pods.items.map(describePod);
      out.pods = lines.length ? lines.join('\n') : 'no pods';
    } catch (err: unknown) {
      out.pods = `could not list pods: ${err instanceof Error ? err.message : String(err)}`;
    }
    return out;
  }
}

/** A step ended badly; the scenario's finding is built from it. */
export class StepError extends Error {
  override name = 'StepError';
  constructor(
    readonly step: string,
    readonly status: 'fail' | 'error',
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`step "${step}": ${reason}`, options);
  }
}

const whenOf = (e: RawEvent) => e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp ?? '';

interface RawEvent {
  metadata?: { creationTimestamp?: string };
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  lastTimestamp?: string;
  eventTime?: string;
  involvedObject?: { kind?: string; name?: string };
}

export interface RawPod {
  metadata?: { name?: string; labels?: Record<string, string>; deletionTimestamp?: string };
  spec?: { nodeName?: string };
  status?: {
    phase?: string;
    conditions?: { type?: string; status?: string; reason?: string; message?: string }[];
    containerStatuses?: { name?: string; ready?: boolean; restartCount?: number; state?: { waiting?: { reason?: string; message?: string }; terminated?: { reason?: string } } }[];
  };
}

export function podReady(p: RawPod): boolean {
  return !p.metadata?.deletionTimestamp && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
}

function describePod(p: RawPod): string {
  const bits = [`${p.metadata?.name ?? '?'}: ${p.metadata?.deletionTimestamp ? 'Terminating' : p.status?.phase ?? 'unknown'}`];
  bits.push(p.spec?.nodeName ? `on ${p.spec.nodeName}` : 'not scheduled');
  for (const c of p.status?.conditions ?? []) {
    if (c.status !== 'True' && (c.reason || c.message)) bits.push(`${c.type}=${c.status}${c.reason ? ` ${c.reason}` : ''}${c.message ? `: ${c.message}` : ''}`);
  }
  for (const c of p.status?.containerStatuses ?? []) {
    const waiting = c.state?.waiting;
    if (waiting) bits.push(`${c.name} waiting: ${waiting.reason ?? ''}${waiting.message ? ` ${waiting.message}` : ''}`);
    if ((c.restartCount ?? 0) > 0) bits.push(`${c.name} restarted ${c.restartCount}x`);
  }
  return bits.join(', ');
}

/** What a scenario can find (its finding names the step in the message and carries every step). */
export const SCENARIO_CODES: Record<string, string> = {
  'step-failed': "a step's expectation did not hold (or did not within its timeout)",
  'step-error': 'a step could not run (denied, API error, exec unavailable)',
  'cleanup-incomplete': "the scenario passed but its namespace was not removed in time (`kubecheck cleanup` removes it)",
};

/**
 * Runs a scenario: creates its namespace, runs `body`, and deletes the namespace whatever happened,
 * waiting (bounded) until it is gone. The finding names the step that broke and carries the evidence.
 */
export async function runScenario(id: string, ctx: WorkloadContext<KubeApi>, body: (s: Scenario) => Promise<string>): Promise<Finding> {
  const s = new Scenario(id, ctx);
  let finding: Finding;
  try {
    await s.step('create namespace', s.quick, async (signal) => {
      s.mayExist = true;
      try {
        await s.api.send('POST', '/api/v1/namespaces', {
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name: s.namespace, labels: { [MANAGED_BY.key]: MANAGED_BY.value, 'kubecheck.dev/scenario': id } },
        }, signal);
      } catch (err: unknown) {
        // Refused (denied, invalid): nothing to clean up. No answer (timeout): it may exist.
        if (err instanceof ApiError && err.status >= 400) s.mayExist = false;
        throw err;
      }
      // Pods are refused until the controller-manager has made the namespace's default ServiceAccount.
      await s.waitFor('the default ServiceAccount', `/api/v1/namespaces/${s.namespace}/serviceaccounts`, { fieldSelector: 'metadata.name=default' }, (items) => ({
        done: items.length > 0,
        state: 'no default ServiceAccount yet (the controller-manager makes it)',
        value: true,
      }), signal);
      return s.namespace;
    });
    const message = await body(s);
    finding = { status: 'pass', message };
  } catch (caught: unknown) {
    // Not a step's failure: a bug between steps. The namespace still goes; the result is an error.
    const err = caught instanceof StepError ? caught : new StepError(s.steps.at(-1)?.name ?? 'create namespace', 'error', `the scenario crashed: ${caught instanceof Error ? caught.message : String(caught)}`);
    const interrupted = ctx.signal.aborted;
    finding = {
      status: err.status,
      code: interrupted ? 'interrupted' : err.status === 'fail' ? 'step-failed' : 'step-error',
      message: interrupted ? `interrupted during step "${err.step}"` : `step "${err.step}" ${err.status === 'fail' ? 'failed' : 'could not run'}: ${err.reason}`,
      ...(err.step !== 'create namespace' && !interrupted ? { evidence: await s.evidence() } : {}),
    };
  }
  const cleanup = await removeNamespace(s, ctx);
  if (cleanup && finding.status === 'pass') finding = { status: 'warn', code: 'cleanup-incomplete', message: `${finding.message}; but ${cleanup}` };
  else if (cleanup) finding = { ...finding, message: `${finding.message}; ${cleanup}` };
  return { ...finding, steps: s.steps };
}

/**
 * Deletes the scenario's namespace and waits until it is gone, on its own clock (a detached step): after
 * Ctrl-C the namespace must still go. Returns a problem to report, or undefined.
 */
async function removeNamespace(s: Scenario, ctx: WorkloadContext<KubeApi>): Promise<string | undefined> {
  if (!s.mayExist) return undefined;
  const timeout = ctx.settings.cleanupTimeout ?? 120;
  try {
    await s.step('delete namespace', timeout + 10, async (signal) => {
      const { stuck } = await removeLeftovers(s.api, [{ name: s.namespace }], { timeoutMs: timeout * 1000, signal });
      if (stuck.length) throw new ExpectationFailed(`still terminating after ${timeout} s${stuck[0].holding ? ` (${stuck[0].holding})` : ''}`);
      return `${s.namespace} deleted`;
    }, { detached: true });
    return undefined;
  } catch (err: unknown) {
    return `the namespace ${s.namespace} was not removed (${err instanceof StepError ? err.reason : String(err)}): \`kubecheck cleanup\` removes it`;
  }
}
