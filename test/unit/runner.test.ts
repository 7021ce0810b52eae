import { describe, expect, it } from 'vitest';
import { CHECKS } from '../../checks/index.js';
import { type ConnectableHost, collectFromHost } from '../../src/collectors/host.js';
import { exitCodeOf, runSuite } from '../../src/core/runner.js';
import { probeHost } from '../../src/collectors/host-probes.js';
import { parseNodeFacts } from '../../src/collectors/node/index.js';
import { parseSuite } from '../../src/suites/load.js';
import type { ExecResult, Transport } from '../../src/transports/types.js';
import { TransportError } from '../../src/transports/types.js';
import type { FleetCheck, NodeCheck, RunResult } from '../../src/core/types.js';
import { FLEET_FACTS } from '../../src/core/facts.js';
import { fixture, NOW, withSections } from '../helpers.js';

/** Replays a recorded collector output: the runner's logic under test, not a transport. */
class RecordedTransport implements Transport {
  closed = false;
  constructor(readonly host: string, private readonly output: string, private readonly delayMs = 0) {}
  async exec(_script: string, { signal }: { signal: AbortSignal }): Promise<ExecResult> {
    const sentAt = Date.now();
    if (this.delayMs) {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, this.delayMs);
        signal.addEventListener('abort', () => { clearTimeout(t); reject(new TransportError('interrupted', 'interrupted')); }, { once: true });
      });
    }
    return { stdout: this.output, stderr: '', code: 0, timing: { sentAt, firstByteAt: Date.now(), endedAt: Date.now() } };
  }
  async close() { this.closed = true; }
}

const healthy = fixture('collector/cp1-post-healthy.txt');
const suite = parseSuite('name: t\nphase: post\nchecks: [node.swap, node.ports, fleet.hostname-unique]\n', 't.yaml');

function target(name: string, output: string | Error, roles: ConnectableHost['roles'] = ['control-plane'], opened: RecordedTransport[] = [], delayMs = 0): ConnectableHost {
  return {
    name,
    roles,
    open: async () => {
      if (output instanceof Error) throw output;
      const t = new RecordedTransport(name, withSections(output, { meta: [`hostname=${name}\nuid=0\ncpus=4\nmemkib=8000000`, 0] }), delayMs);
      opened.push(t);
      return t;
    },
  };
}

const run = (hosts: ConnectableHost[], extra: Partial<Parameters<typeof runSuite<unknown, ConnectableHost>>[0]> = {}) =>
  runSuite({ command: 'run', checks: CHECKS, collect: collectFromHost, suite, entries: suite.checks, hosts, signal: new AbortController().signal, version: '0.0.0-test', now: () => NOW, ...extra });

const brief = (r: RunResult) => r.results.map((x) => `${x.check} ${x.target} ${x.status}`);

describe('runSuite', () => {
  it('gives the fleet checks only what they read of each host (FLEET_FACTS): the rest of its facts is not held until the end', async () => {
    const original = CHECKS.find((c) => c.id === 'fleet.hostname-unique') as FleetCheck;
    const seen: string[][] = [];
    const spy: FleetCheck = { ...original, run: (members, ctx) => {
      seen.push(...members.map((m) => Object.keys(m.facts).sort()));
      return original.run(members, ctx);
    } };
    const r = await run([target('w1', healthy), target('w2', healthy)], { checks: CHECKS.map((c) => (c.id === spy.id ? spy : c)) });
    expect(seen).toEqual([[...FLEET_FACTS].sort(), [...FLEET_FACTS].sort()]);
    expect(brief(r)).toContain('fleet.hostname-unique w2 pass');
  });

  it('tells the probes of each host as soon as its facts are in, with every host\'s roles, before the fleet is probed', async () => {
    const probeSuite = parseSuite('name: t\nphase: pre\nchecks: [node.swap, fleet.node-ip]\n', 't.yaml');
    const events: string[] = [];
    const r = await run([target('cp1', healthy), target('w1', healthy, ['worker']), target('w2', new Error('unreachable'), ['worker'])], {
      suite: probeSuite,
      entries: probeSuite.checks,
      beginProbe: (member, fleet, kinds) => events.push(`begin ${member.host} ${kinds.join(',')} ${fleet.map((h) => `${h.host}:${h.roles.join('+')}`).join(' ')}`),
      probeFleet: async (members) => {
        events.push(`probe ${members.map((m) => m.host).join(' ')}`);
        return { names: { lookups: [] } };
      },
    });
    expect(r.results.length).toBeGreaterThan(0);
    // Each reached host begun (never the unreached w2), all before the fleet probe.
    expect(events.slice(0, 2).sort()).toEqual([
      'begin cp1 names cp1:control-plane w1:worker w2:worker',
      'begin w1 names cp1:control-plane w1:worker w2:worker',
    ]);
    expect(events.slice(2)).toEqual(['probe cp1 w1']);
  });
  it('reads no more of the cluster than its checks need: the nodes for host checks, the version alone when the hosts came with their podCIDRs', async () => {
    const scopes: (string | undefined)[] = [];
    const cluster = { snapshot: async (_: AbortSignal, scope?: string) => {
      scopes.push(scope);
      return { version: { ok: false, reason: 'unavailable', detail: 'test' }, nodes: { ok: true, items: [] } } as never;
    } };
    await run([target('w1', healthy)], { cluster });
    await run([{ ...target('w1', healthy), podCIDRs: ['10.244.1.0/24'] }], { cluster });
    const both = parseSuite('name: t\nphase: post\nchecks: [node.swap, cluster.nodes]\n', 't.yaml');
    await run([{ ...target('w1', healthy), podCIDRs: ['10.244.1.0/24'] }], { cluster, suite: both, entries: both.checks });
    expect(scopes).toEqual(['nodes', 'version', 'cluster']);
  });
  it('orders results by suite order, then id, then target in natural order', async () => {
    const r = await run([target('w10', healthy), target('w2', healthy), target('w1', healthy)]);
    expect(brief(r)).toEqual([
      'node.swap w1 pass', 'node.swap w2 pass', 'node.swap w10 pass',
      'node.ports w1 pass', 'node.ports w2 pass', 'node.ports w10 pass',
      'fleet.hostname-unique w1 pass', 'fleet.hostname-unique w2 pass', 'fleet.hostname-unique w10 pass',
    ]);
    expect(r.summary).toEqual({ pass: 9, warn: 0, fail: 0, error: 0, skip: 0 });
    expect(r.targets?.map((t) => [t.name, t.reached])).toEqual([['w1', true], ['w2', true], ['w10', true]]);
    expect(exitCodeOf(r)).toBe(0);
  });
  it('turns an unreachable host into one error, on its first check, and skips its other checks, fleet checks included', async () => {
    const r = await run([target('a', healthy), target('b', new TransportError('unreachable', 'connect ECONNREFUSED 10.0.0.2:22'))]);
    expect(brief(r)).toEqual([
      'node.swap a pass', 'node.swap b error', 'node.ports a pass', 'node.ports b skip',
      'fleet.hostname-unique a pass', 'fleet.hostname-unique b skip',
    ]);
    const b = r.results.filter((x) => x.target === 'b');
    expect(b.map((x) => [x.code, x.message])).toEqual([
      ['node.swap/unreached', 'host not reached: connect ECONNREFUSED 10.0.0.2:22'],
      ['node.ports/unreached', 'host not reached'],
      ['fleet.hostname-unique/unreached', 'host not reached'],
    ]);
    expect(r.targets?.find((t) => t.name === 'b')).toEqual({ name: 'b', kind: 'host', reached: false, problem: 'connect ECONNREFUSED 10.0.0.2:22' });
    expect(exitCodeOf(r)).toBe(1);
  });
  it('exits 3 when no host could be reached', async () => {
    const r = await run([target('a', new TransportError('auth', 'all authentication methods failed'))]);
    expect(exitCodeOf(r)).toBe(3);
  });
  it('turns a crashing check into an error for that check and target only', async () => {
    const crashing: NodeCheck = {
      kind: 'node', id: 'node.swap', title: 't', area: 'node', why: 'w', remediation: 'r', codes: {},
      run: (_f, ctx) => { if (ctx.host === 'b') throw new TypeError('boom'); return { status: 'pass', message: 'ok' }; },
    };
    const { CHECKS } = await import('../../checks/index.js');
    const original = CHECKS.find((c) => c.id === 'node.swap') as NodeCheck;
    const saved = original.run;
    (original as { run: NodeCheck['run'] }).run = crashing.run;
    try {
      const r = await run([target('a', healthy), target('b', healthy)]);
      expect(brief(r).slice(0, 2)).toEqual(['node.swap a pass', 'node.swap b error']);
      expect(r.results[1].message).toBe('the check crashed: TypeError: boom');
      expect(r.results.filter((x) => x.target === 'b' && x.check !== 'node.swap').every((x) => x.status === 'pass')).toBe(true);
    } finally {
      (original as { run: NodeCheck['run'] }).run = saved;
    }
  });
  it('judges hosts with their own roles unless roles are forced', async () => {
    const listen = 'tcp LISTEN 0 4096 *:10250 *:* users:(("kubelet",pid=1,fd=3))';
    const worker = withSections(healthy, { listen: [listen, 0] });
    const r = await run([target('w', worker, ['worker'])]);
    expect(r.results.find((x) => x.check === 'node.ports')?.status).toBe('pass');
    const forced = await run([target('w', worker, ['worker'])], { roles: ['control-plane'] });
    expect(forced.results.find((x) => x.check === 'node.ports')?.status).toBe('fail');
  });
  it('gives a host that does not answer in time an error and closes its connection', async () => {
    const opened: RecordedTransport[] = [];
    const r = await run([target('slow', healthy, ['worker'], opened, 5_000), target('fast', healthy)], { targetTimeoutMs: 200 });
    expect(r.results.find((x) => x.target === 'slow')?.message).toMatch(/host not reached: .*(200 ms|interrupted)/);
    expect(r.results.filter((x) => x.target === 'fast').every((x) => x.status === 'pass')).toBe(true);
    expect(opened.every((t) => t.closed)).toBe(true);
  });
  it('stops on abort: hosts not started are reported, and the exit code is 130', async () => {
    const controller = new AbortController();
    const hosts = Array.from({ length: 6 }, (_, i) => target(`h${i}`, healthy, ['worker'], [], 300));
    const pending = run(hosts, { signal: controller.signal, concurrency: 2 });
    setTimeout(() => controller.abort(), 50);
    const r = await pending;
    expect(r.interrupted).toBe(true);
    expect(exitCodeOf(r)).toBe(130);
    expect(new Set(r.results.map((x) => x.target)).size).toBe(6);
    expect(r.results.some((x) => x.message === 'interrupted before this host was checked')).toBe(true);
  });
  it('fails on warnings only with --fail-on warn', async () => {
    const r = await run([target('a', withSections(healthy, { fstab: ['/swap none swap sw 0 0', 0] }))]);
    expect(r.summary.warn).toBe(1);
    expect(exitCodeOf(r)).toBe(0);
    expect(exitCodeOf(r, 'warn')).toBe(1);
  });
});

describe('cluster checks in the runner', () => {
  const clusterSuite = parseSuite('name: c\nchecks: [cluster.scheduler, cluster.etcd]\n', 'c.yaml');
  it('retries failing cluster checks on a fresh snapshot and marks a pass on retry as flaky', async () => {
    const { recordedSnapshot, RECORDED_AT } = await import('./cluster-snapshot.js');
    const stale = recordedSnapshot();
    const fresh = recordedSnapshot();
    const snapshots = [stale, fresh];
    let taken = 0;
    // The first snapshot is judged 2 minutes later than it was taken: its scheduler lease looks stale.
    const clock = [new Date(RECORDED_AT.getTime() + 120_000), RECORDED_AT];
    const run = await runSuite({
      command: 'smoke', checks: CHECKS, collect: collectFromHost, suite: clusterSuite, entries: clusterSuite.checks, hosts: [], version: 't', signal: new AbortController().signal,
      cluster: { snapshot: async () => snapshots[taken++] }, retries: 2, now: () => clock[Math.max(0, Math.min(taken - 1, 1))],
    });
    expect(taken).toBe(2);
    const sched = run.results.find((r) => r.check === 'cluster.scheduler')!;
    expect(sched).toMatchObject({ status: 'pass', attempts: 2, message: expect.stringMatching(/\(passed on attempt 2: flaky\)$/) });
    expect(run.results.find((r) => r.check === 'cluster.etcd')?.attempts).toBeUndefined();
    expect(run.targets).toEqual([{ name: 'cluster', kind: 'cluster', reached: true, reachedBy: 'api' }]);
  });
  it('without a cluster source, reports an error for each cluster check', async () => {
    const run = await runSuite({ command: 'smoke', checks: CHECKS, collect: collectFromHost, suite: clusterSuite, entries: clusterSuite.checks, hosts: [], version: 't', signal: new AbortController().signal });
    expect(run.results.map((r) => `${r.check} ${r.target} ${r.status}`)).toEqual(['cluster.scheduler cluster error', 'cluster.etcd cluster error']);
    expect(exitCodeOf(run)).toBe(3);
  });
});

describe('deadline', () => {
  it('aborts after its time even when nothing else holds the signal, follows its parent, and can be cleared', async () => {
    const { deadline } = await import('../../src/core/pool.js');
    const timed = deadline(new AbortController().signal, 20);
    // Allocate and collect garbage meanwhile: a composite AbortSignal.any timeout could be lost here.
    for (let i = 0; i < 50; i++) new Array(10_000).fill(i);
    await new Promise((r) => setTimeout(r, 60));
    expect([timed.signal.aborted, timed.timedOut()]).toEqual([true, true]);
    const parent = new AbortController();
    const child = deadline(parent.signal, 10_000);
    parent.abort();
    expect([child.signal.aborted, child.timedOut()]).toEqual([true, false]);
    child.clear();
    const cleared = deadline(new AbortController().signal, 20);
    cleared.clear();
    await new Promise((r) => setTimeout(r, 40));
    expect(cleared.signal.aborted).toBe(false);
  });
});

describe('onAbort', () => {
  it('holds one listener on the signal for any number of waits, calls those still waiting once, none after it aborted', async () => {
    const { getEventListeners } = (await import('node:events')).EventEmitter;
    const { onAbort, withTimeout } = await import('../../src/core/pool.js');
    const run = new AbortController();
    const called: number[] = [];
    const stops = Array.from({ length: 1000 }, (_, i) => onAbort(run.signal, () => called.push(i)));
    // Thousands of hosts wait on the run's signal: one listener, so removing a wait does not walk the rest.
    expect(getEventListeners(run.signal, 'abort')).toHaveLength(1);
    for (const stop of stops.slice(0, 998)) stop();
    const settled = await withTimeout(Promise.resolve('done'), 1000, run.signal, 'a wait');
    expect(settled).toBe('done');
    expect(getEventListeners(run.signal, 'abort')).toHaveLength(1);
    run.abort();
    expect(called).toEqual([998, 999]);
    onAbort(run.signal, () => called.push(-1));
    expect(called).toEqual([998, 999]);
    const interrupted = withTimeout(new Promise(() => undefined), 10_000, (() => {
      const c = new AbortController();
      setTimeout(() => c.abort(), 10);
      return c.signal;
    })(), 'a wait');
    await expect(interrupted).rejects.toThrow('a wait was interrupted');
  });
});

describe('heapBound', () => {
  it('asks for a full collection once the used heap is past the soft limit and has grown by half of it since the last', async () => {
    const { heapBound } = await import('../../src/core/heap.js');
    const MiB = 1 << 20;
    let heap = 100 * MiB;
    let collections = 0;
    const check = heapBound(256 * MiB, () => heap, () => {
      collections++;
      heap = 140 * MiB;
      return true;
    });
    check();
    expect(collections).toBe(0);
    heap = 300 * MiB;
    check();
    expect([collections, heap]).toEqual([1, 140 * MiB]);
    // Past the limit again, but only 126 MiB above what the last collection left: not yet.
    heap = 266 * MiB;
    check();
    expect(collections).toBe(1);
    heap = 269 * MiB;
    check();
    expect(collections).toBe(2);
  });

  it('a full collection is really had at run time (V8 reports a major GC during the call)', async () => {
    const { PerformanceObserver, constants, performance } = await import('node:perf_hooks');
    const { fullCollection } = await import('../../src/core/heap.js');
    const majors: number[] = [];
    const observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if (((e as { detail?: unknown }).detail as { kind?: number } | undefined)?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors.push(e.startTime);
    });
    observer.observe({ entryTypes: ['gc'] });
    try {
      const from = performance.now();
      expect(fullCollection()).toBe(true);
      const to = performance.now();
      await new Promise((r) => setTimeout(r, 100));
      expect(majors.filter((t) => t >= from && t <= to).length).toBeGreaterThan(0);
    } finally {
      observer.disconnect();
    }
  });
});

describe('probeHost', () => {
  it('dials the runtime\'s registries only when asked (node.registry is in the run): none without endpoints, the configured one with', async () => {
    const facts = parseNodeFacts(fixture('collector/real-w1-incluster.txt'));
    const dialled: string[] = [];
    const t: Transport = {
      host: 'w1',
      exec: async () => {
        throw new Error('no exec expected');
      },
      probeTcp: async (address, port) => {
        dialled.push(`${address}:${port}`);
      },
      close: async () => undefined,
    };
    const signal = new AbortController().signal;
    expect((await probeHost(t, facts, { signal })).endpoints).toBeUndefined();
    expect(dialled).toEqual([]);
    expect((await probeHost(t, facts, { signal, endpoints: [] })).endpoints).toMatchObject([{ address: '10.214.0.2:5000', ok: true, detail: 'connected' }]);
    expect(dialled).toEqual(['10.214.0.2:5000']);
  });
});
