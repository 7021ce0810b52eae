// The probe between hosts, run for real by both interpreters (perl, python3) in a network namespace of
// its own (only its loopback: the ports and the UDP 8472 it binds are its own), through the same command
// line and plan kubecheck sends: they must follow the same protocol and say the same things.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseProbeOutput, probeCommandLine, probePlan } from '../../src/collectors/fleet-probes.js';

type Interpreter = Parameters<typeof probeCommandLine>[0];

interface Run {
  lines: string[];
  stdout: string;
  /** Milliseconds from "go" to the process's end. */
  afterGoMs: number;
  code: number | null;
}

/**
 * Runs the probe in a new network namespace (and mount namespace, for `setup` to bind files over the
 * host's): waits for "ready", says "go", and "stop" once it says "done" (when `stop`).
 */
function runProbe(interpreter: Interpreter, plan: string, stop: boolean, setup = 'true', go = 'go'): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('unshare', ['-n', '-m', 'sh', '-c', `ip link set lo up && ${setup} && exec ${probeCommandLine(interpreter, plan)}`], { stdio: ['pipe', 'pipe', 'inherit'] });
    let stdout = '';
    let goAt = 0;
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const lines = stdout.split('\n');
      if (!goAt && lines.includes('ready')) {
        goAt = Date.now();
        child.stdin.write(`${go}\n`);
      }
      if (stop && !child.stdin.writableEnded && lines.includes('done')) child.stdin.end('stop\n');
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ lines: stdout.split('\n').filter(Boolean), stdout, afterGoMs: Date.now() - goAt, code });
    });
  });
}

/** Waits (up to 5 s) until the silent DNS server listens, so the probe's first query is not refused before it does. */
const DNS_BOUND = 'for i in $(seq 100); do ss -Hlun | grep -q "127.0.0.1:53 " && break; sleep 0.05; done';

const base = { me: 'a', ready: 10, seconds: 2, udp: [] as [string, string][], udpFrom: [] as string[], names: [] as string[] };

describe.each(['perl', 'python3'] as const)('the probe between hosts in %s', (interpreter) => {
  it('listens, dials, looks names up and exchanges VXLAN datagrams, says done and ends when told to stop', async () => {
    // The host's own UDP 8472 sends to itself: its probe is heard and its ack comes back, as between two hosts.
    const plan = probePlan({ ...base, wait: 8, listen: { tcp: [16443], udp: [8472] }, accepts: { 16443: 1 }, names: ['localhost', 'no-such-host.invalid'], tcp: [['127.0.0.1', 16443]], udp: [['a', '127.0.0.1']], udpFrom: ['a'] });
    const run = await runProbe(interpreter, plan, true);
    expect(run.code).toBe(0);
    expect(run.lines.slice(0, 2)).toEqual(['ready', 'done']);
    // Told to stop once done: it ends then, not at the 8 s deadline.
    expect(run.afterGoMs).toBeLessThan(4_000);
    const out = parseProbeOutput(run.stdout, ['to 127.0.0.1:16443']);
    expect(out.listen).toEqual({ 'tcp/16443': 'ready', 'udp/8472': 'ready' });
    expect(out.tcp).toEqual({ 'to 127.0.0.1:16443': 'connected' });
    expect(out.lookups.localhost).toContain('127.0.0.1');
    expect(out.lookups['no-such-host.invalid']).toBeNull();
    expect(out.inbound).toEqual(['a']);
    expect(out.acked).toEqual(['a']);
  }, 30_000);

  it('a refusal is tried until the deadline, an unreachable network is not; a port already taken is said', async () => {
    const plan = probePlan({ ...base, wait: 2, listen: { tcp: [16443, 16443], udp: [] }, accepts: {}, tcp: [['127.0.0.1', 16444], ['10.9.9.9', 6443]] });
    const run = await runProbe(interpreter, plan, true);
    expect(run.code).toBe(0);
    // Never done (the refusal may still turn into a listener): it ends at its deadline.
    expect(run.lines).not.toContain('done');
    expect(run.afterGoMs).toBeGreaterThanOrEqual(1_900);
    expect(run.afterGoMs).toBeLessThan(6_000);
    const out = parseProbeOutput(run.stdout, ['closed', 'unroutable']);
    expect(out.tcp).toEqual({ closed: 'Connection refused', unroutable: 'Network is unreachable' });
    // The second listener on the same port could not be made.
    expect(run.lines).toContain('listen tcp/16443 Address already in use');
  }, 30_000);

  it('started with only its listeners, takes the rest of its plan from the go line (a host begun before the others\' facts were in)', async () => {
    const early = probePlan({ me: 'a', ready: 10, seconds: 2, wait: 4, listen: { tcp: [16443], udp: [] }, accepts: {}, names: [], tcp: [], udp: [], udpFrom: [] });
    const rest = probePlan({ accepts: { 16443: 1 }, names: ['localhost'], tcp: [['127.0.0.1', 16443]], udp: [], udpFrom: [] });
    expect(rest).toBe('accept 16443 1;name localhost;tcp 127.0.0.1 16443');
    const run = await runProbe(interpreter, early, true, 'true', `go ${rest}`);
    expect(run.code).toBe(0);
    expect(run.lines.slice(0, 2)).toEqual(['ready', 'done']);
    const out = parseProbeOutput(run.stdout, ['to 127.0.0.1:16443']);
    expect(out.listen).toEqual({ 'tcp/16443': 'ready' });
    expect(out.tcp).toEqual({ 'to 127.0.0.1:16443': 'connected' });
    expect(out.lookups.localhost).toContain('127.0.0.1');
  }, 30_000);

  it('a name that hangs in DNS holds up its own lookup only: the others still answer', async () => {
    // Names from /etc/hosts answer at once; slow.invalid goes to a DNS server that reads and never answers.
    const dir = mkdtempSync(join(tmpdir(), 'kc-probe-'));
    try {
      writeFileSync(join(dir, 'hosts'), '127.0.0.1 localhost\n10.0.0.1 a\n10.0.0.2 b\n10.0.0.3 c\n10.0.0.4 d\n10.0.0.5 e\n10.0.0.6 f\n');
      writeFileSync(join(dir, 'resolv.conf'), 'nameserver 127.0.0.1\noptions timeout:5 attempts:1\n');
      const setup = `mount --bind ${dir}/hosts /etc/hosts && mount --bind ${dir}/resolv.conf "$(readlink -f /etc/resolv.conf)" && { timeout 8 socat -u UDP-RECV:53,bind=127.0.0.1 /dev/null </dev/null >/dev/null 2>&1 & } && ${DNS_BOUND}`;
      const names = ['slow.invalid', 'a', 'b', 'c', 'd', 'e', 'f'];
      const run = await runProbe(interpreter, probePlan({ ...base, wait: 4, listen: { tcp: [], udp: [] }, accepts: {}, names, tcp: [] }), true, setup);
      const out = parseProbeOutput(run.stdout, []);
      expect(out.lookups).toEqual({ 'slow.invalid': 'timeout', a: ['10.0.0.1'], b: ['10.0.0.2'], c: ['10.0.0.3'], d: ['10.0.0.4'], e: ['10.0.0.5'], f: ['10.0.0.6'] });
      // Done once the lookups' window (2 s) is over, not at the 4 s deadline.
      expect(run.lines.slice(0, 2)).toEqual(['ready', 'done']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe('the Perl probe\'s own deadline', () => {
  it('ends itself and its lookup child wait + 4 s after go (ready + wait + 4 s without one), even blocked in a DNS lookup (no `timeout` around it)', async () => {
    // A dial to a name the (silent) DNS server never answers blocks the probe itself; its lookup child too.
    const dir = mkdtempSync(join(tmpdir(), 'kc-probe-'));
    try {
      writeFileSync(join(dir, 'resolv.conf'), 'nameserver 127.0.0.1\noptions timeout:30 attempts:1\n');
      const setup = `mount --bind ${dir}/resolv.conf "$(readlink -f /etc/resolv.conf)" && { timeout 25 socat -u UDP-RECV:53,bind=127.0.0.1 /dev/null </dev/null >/dev/null 2>&1 & } && ${DNS_BOUND}`;
      const started = Date.now();
      const run = await runProbe('perl', probePlan({ ...base, ready: 1, wait: 1, listen: { tcp: [], udp: [] }, accepts: {}, names: ['deadline-test.invalid'], tcp: [['deadline-test.invalid', 80]] }), false, setup);
      const tookMs = Date.now() - started;
      expect(run.lines[0]).toBe('ready');
      expect(run.code).toBeNull(); // killed by its alarm, not ended with its results
      // Told to go at once (ready), so its deadline is wait (1 s) + 4 s later.
      expect(tookMs).toBeGreaterThan(4_500);
      expect(tookMs).toBeLessThan(10_000);
      // Its lookup child, blocked in the same lookup, ends by its own alarm too: nothing of it is left.
      await new Promise((r) => setTimeout(r, 1_000));
      const left = spawnSync('pgrep', ['-f', 'deadline-test[.]invalid'], { encoding: 'utf8' }).stdout.trim();
      expect(left).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe('the probe\'s result lines', () => {
  it('are read by the plan\'s dial order; a lookup with no answer in time, or none, is told apart', () => {
    const out = parseProbeOutput('ready\ndone\nlisten udp/8472 Address already in use\ntcp 1 connected\ntcp 0 timed out\nlookup h1 10.0.0.1 fd00::1\nlookup h2 -\nlookup h3 timeout\ninbound h2\nacked h3\nend\n', ['x', 'y']);
    expect(out).toEqual({
      listen: { 'udp/8472': 'Address already in use' },
      tcp: { x: 'timed out', y: 'connected' },
      lookups: { h1: ['10.0.0.1', 'fd00::1'], h2: null, h3: 'timeout' },
      inbound: ['h2'],
      acked: ['h3'],
    });
  });

  it('output cut short (no end line) is not taken as a result', () => {
    expect(() => parseProbeOutput('ready\ndone\ntcp 0 connected\n', ['x'])).toThrow(/ended early/);
  });

  it('the plan is one argument of KEY VALUE records', () => {
    expect(probePlan({ me: 'h1', ready: 60, seconds: 3, wait: 5, listen: { tcp: [6443], udp: [8472] }, accepts: { 6443: 2 }, names: ['h2'], tcp: [['10.0.0.2', 10250]], udp: [['h2', '10.0.0.2']], udpFrom: ['h0'] }))
      .toBe('me h1;ready 60;seconds 3;wait 5;listen tcp 6443;listen udp 8472;accept 6443 2;name h2;tcp 10.0.0.2 10250;udp h2 10.0.0.2;udpfrom h0');
  });
});
