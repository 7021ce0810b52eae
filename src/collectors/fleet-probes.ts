// Making the hosts talk to each other, over the one connection kubecheck holds to each, on the exec
// session its collector ran in (held open for this: HeldTransport): every host dials the control planes'
// 6443, the control planes dial every kubelet's 10250, etcd members dial each other's 2379-2380, and UDP
// 8472 datagrams go between every pair (flannel's VXLAN),
// each from the source host itself to the address the cluster will use. Where nothing listens yet (before
// an install) the target's probe listens for the time of the probe only. Each host also looks up the other
// hosts' names. The probe is a Perl program (perl-base's modules only), or Python where there is no perl;
// a host with neither is dialled from through its sshd (as `ssh -W` does) and looks names up with getent;
// UDP to and from it is not judged. Only the inventory's hosts are dialled.
import { readFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { assetPath } from '../core/assets.js';
import type { FleetProbes, PathProbe } from '../core/facts.js';
import { forEachLimited } from '../core/pool.js';
import type { FleetMember, FleetProbeKind, FleetShape } from '../core/types.js';
import { type RunningCommand, type Transport, canConnect } from '../transports/types.js';
import { defaultRouteAddress, kubeletAddress } from './node/node-address.js';
import { parseAhosts } from './node/preinstall.js';
import { runsFlannel } from '../profiles/profiles.js';

const TRY_MS = 3_000;
const UDP_PORT = 8472;

interface Wanted {
  from: FleetMember;
  to: FleetMember;
  address: string;
  port: number;
  proto: 'tcp' | 'udp';
  why: string;
}

const isControlPlane = (m: FleetMember) => m.roles.includes('control-plane');
const isEtcd = (m: FleetMember) => m.roles.includes('etcd') || m.roles.includes('control-plane');
const listens = (m: FleetMember, proto: 'tcp' | 'udp', port: number) => m.facts.listeners.ok && m.facts.listeners.value.some((l) => l.proto === proto && l.port === port);
const has = (m: FleetMember, tool: string) => m.facts.binaries.ok && !!m.facts.binaries.value[tool];

/** An address that can go into a probe's plan (an IP or a host name; a host's facts could say anything). */
const usable = (a: string | undefined): a is string => !!a && /^[A-Za-z0-9][A-Za-z0-9.:%_-]{0,252}$/.test(a);

/** The paths a cluster of these hosts needs, to the addresses the cluster will use. */
export function wantedPaths(members: readonly FleetMember[]): Wanted[] {
  const out: Wanted[] = [];
  const advertise = (m: FleetMember) => defaultRouteAddress(m.facts)?.address ?? m.address;
  for (const cp of members.filter(isControlPlane)) {
    const api = advertise(cp);
    for (const m of members) if (m !== cp && usable(api)) out.push({ from: m, to: cp, address: api, port: 6443, proto: 'tcp', why: 'the API server' });
    for (const m of members) {
      const kubelet = kubeletAddress(m.facts).address ?? m.address;
      if (m !== cp && usable(kubelet)) out.push({ from: cp, to: m, address: kubelet, port: 10250, proto: 'tcp', why: 'the kubelet API (logs, exec, metrics)' });
    }
  }
  const etcd = members.filter(isEtcd);
  for (const a of etcd) {
    for (const b of etcd) {
      const addr = advertise(b);
      if (a === b || !usable(addr)) continue;
      out.push({ from: a, to: b, address: addr, port: 2379, proto: 'tcp', why: 'etcd clients' }, { from: a, to: b, address: addr, port: 2380, proto: 'tcp', why: 'etcd peers' });
    }
  }
  const flannel = members.filter((m) => runsFlannel(m.facts.profile.cni));
  for (const a of flannel) {
    for (const b of flannel) {
      const addr = defaultRouteAddress(b.facts)?.address ?? b.address;
      if (a !== b && usable(addr)) out.push({ from: a, to: b, address: addr, port: UDP_PORT, proto: 'udp', why: 'flannel VXLAN' });
    }
  }
  return out;
}

/**
 * The probe each host runs, once (probe.pl, or probe.py where there is no perl): listeners on the ports
 * nothing holds there yet and name lookups; then "ready", and it waits for kubecheck's "go" on its stdin,
 * sent when every host's probe listens (starting a process takes a busy host a second or more, so hosts
 * started together are not ready together). Then a TCP connect to each target (a refusal tried again until
 * the end) and VXLAN datagrams to each peer from the host's own 8472 socket, resent until the peer
 * acknowledges (the ack comes back to 8472). It ends as soon as every answer is in — its own paths
 * connected or failed, every peer acknowledged and heard from, every dial it expects received — or at the
 * deadline, and prints its result lines. No file is written, and it runs under `timeout`: nothing outlives it.
 */
type Interpreter = 'perl' | 'python3';

/** What one host's probe found. */
interface ProbeOutput {
  listen: Record<string, string>;
  tcp: Record<string, string>;
  inbound: string[];
  acked: string[];
  lookups: Record<string, string[] | null | 'timeout'>;
}

/**
 * A probe's result lines (after "ready" and "done"): `listen PROTO/PORT ready|REASON`, `tcp I RESULT` (the
 * plan's I-th dial), `lookup NAME ADDR…|-|timeout`, `inbound HOST`, `acked HOST`, and `end` last (without
 * it the output was cut short).
 */
export function parseProbeOutput(stdout: string, dials: readonly string[]): ProbeOutput {
  const out: ProbeOutput = { listen: {}, tcp: {}, inbound: [], acked: [], lookups: {} };
  let ended = false;
  for (const line of stdout.split('\n')) {
    const [kind, key = '', ...rest] = line.trim().split(' ');
    const value = rest.join(' ');
    if (kind === 'end') ended = true;
    else if (kind === 'listen' && key) out.listen[key] = value;
    else if (kind === 'tcp' && dials[Number(key)] !== undefined) out.tcp[dials[Number(key)]] = value;
    else if (kind === 'lookup' && key) out.lookups[key] = value === 'timeout' ? 'timeout' : value === '-' ? null : rest;
    else if (kind === 'inbound' && key) out.inbound.push(key);
    else if (kind === 'acked' && key) out.acked.push(key);
  }
  if (!ended) throw new Error(`its output ended early: ${JSON.stringify(stdout.slice(-200))}`);
  return out;
}

/** How long a path that drops packets is given; a refusal is tried again until WAIT_SECONDS. */
const PROBE_SECONDS = 3;
/**
 * The longest a host's probe runs after "go": it ends as soon as its own dials are answered and every host
 * meant to reach it did, well under a second on a healthy network; only a blocked path makes it wait.
 */
const WAIT_SECONDS = 5;
/** How long every host's probe is given to start listening before the others are told to go anyway. */
const READY_SECONDS = 60;

/** Names and members' names that may go into another host's command line. */
const safeName = (n: string) => /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/.test(n);
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

const probeCommands: Partial<Record<Interpreter, string>> = {};

/**
 * The probe as one command line (it may go to a held collector's channel, which runs one line): probe.pl
 * with its comment lines left out and its lines joined (it is written for that), or probe.py compressed
 * into the line, as python3 -c runs it (-I -S: no site packages or user environment: the probe needs only
 * the standard library, and starts ~10 % sooner, ~100 ms on these hosts).
 */
function probeCommand(interpreter: Interpreter): string {
  const read = (name: string) => readFileSync(assetPath(`src/collectors/probe/${name}`), 'utf8');
  if (interpreter === 'perl') {
    probeCommands.perl ??= `perl -e ${quote(read('probe.pl').split('\n').filter((l) => !/^\s*(#|$)/.test(l)).map((l) => l.trim()).join(' '))}`;
  } else {
    probeCommands.python3 ??= `python3 -I -S -c ${quote(`import base64,zlib;exec(zlib.decompress(base64.b64decode("${deflateSync(read('probe.py'), { level: 9 }).toString('base64')}")))`)}`;
  }
  return probeCommands[interpreter]!;
}

/** The probe and its plan as one command line. */
export const probeCommandLine = (interpreter: Interpreter, plan: string) => `${probeCommand(interpreter)} ${quote(plan)}`;

/** What a plan says; a "go" line's plan has no header (me, ready, seconds, wait) and no listeners. */
interface PlanFields {
  me?: string;
  ready?: number;
  seconds?: number;
  wait?: number;
  listen?: HostPlan['listen'];
  accepts: Record<string, number>;
  names: string[];
  tcp: [string, number][];
  udp: [string, string][];
  udpFrom: string[];
}

/** A probe's plan (its command line argument, or the rest of its "go" line): `KEY VALUE…` records joined by `;` (names and addresses have neither). */
export function probePlan(fields: PlanFields): string {
  const header = (['me', 'ready', 'seconds', 'wait'] as const).filter((k) => fields[k] !== undefined).map((k) => `${k} ${fields[k]}`);
  return [
    ...header,
    ...(fields.listen?.tcp ?? []).map((p) => `listen tcp ${p}`), ...(fields.listen?.udp ?? []).map((p) => `listen udp ${p}`),
    ...Object.entries(fields.accepts).map(([port, n]) => `accept ${port} ${n}`),
    ...fields.names.map((n) => `name ${n}`),
    ...fields.tcp.map(([address, port]) => `tcp ${address} ${port}`),
    ...fields.udp.map(([host, address]) => `udp ${host} ${address}`),
    ...fields.udpFrom.map((h) => `udpfrom ${h}`),
  ].join(';');
}

interface HostPlan {
  member: FleetMember;
  listen: { tcp: number[]; udp: number[] };
  names: string[];
  tcp: Wanted[];
  udp: Wanted[];
  udpFrom: string[];
  /** How many dials each port the probe listens on should see. */
  accepts: Record<string, number>;
}

/**
 * The ports a host's probe listens on where nothing of its own holds them: those the paths to it use
 * (wantedPaths) in a fleet of this shape — its 6443 for a control plane, 10250 when another host is a control
 * plane, 2379-2380 between etcd members, flannel's 8472/udp. Known from the host's own facts and the
 * inventory's roles, so a host's probe can listen before the other hosts' facts are in.
 */
export function listenPorts(m: FleetMember, fleet: readonly FleetShape[]): HostPlan['listen'] {
  const others = fleet.filter((h) => h.host !== m.host);
  const wants: [('tcp' | 'udp'), number, boolean][] = [
    ['tcp', 6443, isControlPlane(m) && others.length > 0],
    ['tcp', 10250, others.some((h) => h.roles.includes('control-plane'))],
    ['tcp', 2379, isEtcd(m) && others.some((h) => h.roles.includes('etcd') || h.roles.includes('control-plane'))],
    ['tcp', 2380, isEtcd(m) && others.some((h) => h.roles.includes('etcd') || h.roles.includes('control-plane'))],
    ['udp', UDP_PORT, runsFlannel(m.facts.profile.cni) && others.length > 0],
  ];
  const out: HostPlan['listen'] = { tcp: [], udp: [] };
  for (const [proto, port, wanted] of wants) if (wanted && !listens(m, proto, port)) out[proto].push(port);
  return out;
}

/** Each host's part of the probe: what it listens on, looks up, dials and sends to. */
function plans(members: readonly FleetMember[], fleet: readonly FleetShape[], wanted: Wanted[], names: string[] | undefined, reachability: boolean): Map<string, HostPlan> {
  const out = new Map<string, HostPlan>(members.map((m) => [m.host, { member: m, listen: reachability ? listenPorts(m, fleet) : { tcp: [], udp: [] }, names: [], tcp: [], udp: [], udpFrom: [], accepts: {} }]));
  const cps = new Set(members.filter(isControlPlane).map((c) => c.facts.hostname));
  for (const m of members) {
    const p = out.get(m.host)!;
    // Everyone looks up everyone (the control planes and itself only, above 64 hosts).
    if (names) p.names = names.length > 64 ? names.filter((n) => cps.has(n) || n === m.facts.hostname) : names;
  }
  for (const w of wanted) {
    const from = out.get(w.from.host)!;
    const to = out.get(w.to.host)!;
    if (w.proto === 'tcp') {
      from.tcp.push(w);
      if (to.listen.tcp.includes(w.port)) to.accepts[w.port] = (to.accepts[w.port] ?? 0) + 1;
    }
    else if (!listens(w.to, 'udp', UDP_PORT) && !listens(w.from, 'udp', UDP_PORT) && w.from.host < w.to.host) {
      // One exchange per pair: the first host's probe and the other's ack cover both directions.
      from.udp.push(w);
      to.udpFrom.push(w.from.host);
    }
  }
  return out;
}

/** A refusal shows the packets got there (nothing listened, or a REJECT rule). */
const refusedMeansOpen = (detail: string) => /refused/i.test(detail);

const pathKey = (w: Wanted) => `${w.to.host} ${w.address}:${w.port}`;

/**
 * How long a probe started with its own host's facts waits for the others' (then its "go"): as long as the
 * collector's channel is held for it (collectFromHost's HOLD_MS), since the other hosts may still be collecting.
 */
const EARLY_READY_SECONDS = 600;

const interpreterOf = (m: FleetMember, t: Transport | undefined): Interpreter | undefined => {
  const interpreter = has(m, 'perl') ? 'perl' : has(m, 'python3') ? 'python3' : undefined;
  return interpreter && safeName(m.host) && t?.start ? interpreter : undefined;
};

/**
 * Starts a host's probe with `plan` and resolves once it says "ready" (rejects with why not). It ends at the
 * plan's ready + wait + 4 s whatever happens: by its own alarm (perl: no `timeout` process to start), or by `timeout`.
 */
async function launch(t: Transport, interpreter: Interpreter, plan: string, readySeconds: number, signal: AbortSignal): Promise<RunningCommand> {
  const limit = readySeconds + WAIT_SECONDS + 4;
  const command = interpreter === 'perl' ? probeCommandLine(interpreter, plan) : `timeout ${limit} ${probeCommandLine(interpreter, plan)}`;
  const running = await t.start!(command, { timeoutMs: (limit + 11) * 1000, signal });
  try {
    const line = await running.line(0);
    if (line.trim() !== 'ready') throw new Error(`it printed ${JSON.stringify(line.slice(0, 200))}`);
    return running;
  } catch (err: unknown) {
    running.end();
    throw err;
  }
}

/**
 * The probes between the hosts of one run. A host's probe can start as soon as its own facts are in
 * (`begin`: it listens and waits, while the other hosts are still collecting, so starting the interpreters
 * costs the run no time of its own), and `run` tells every probe what to look up and dial once all facts
 * are in ("go" and the rest of its plan), or starts with the whole plan those not begun.
 */
export class FleetProber {
  private readonly early = new Map<string, Promise<RunningCommand>>();
  private fleet: readonly FleetShape[] | undefined;

  constructor(private readonly transports: Map<string, Transport>) {}

  /** Starts `member`'s probe now (listening on the ports the fleet's paths to it will use), if it has perl or python3. */
  begin(member: FleetMember, fleet: readonly FleetShape[], kinds: FleetProbeKind[], signal: AbortSignal): void {
    this.fleet ??= fleet;
    const t = this.transports.get(member.host);
    const interpreter = interpreterOf(member, t);
    if (!interpreter || this.early.has(member.host)) return;
    const listen = kinds.includes('reachability') ? listenPorts(member, this.fleet) : { tcp: [], udp: [] };
    const plan = probePlan({ me: member.host, ready: EARLY_READY_SECONDS, seconds: PROBE_SECONDS, wait: WAIT_SECONDS, listen, accepts: {}, names: [], tcp: [], udp: [], udpFrom: [] });
    const started = launch(t!, interpreter, plan, EARLY_READY_SECONDS, signal);
    started.catch(() => undefined);
    this.early.set(member.host, started);
  }

  /** Runs every host's probe (hosts with perl or python3; the others are probed from kubecheck's side). */
  async run(members: readonly FleetMember[], kinds: FleetProbeKind[], signal: AbortSignal): Promise<FleetProbes> {
    const transports = this.transports;
    const reached = members.filter((m) => transports.has(m.host));
    const wanted = kinds.includes('reachability') ? wantedPaths(reached) : [];
    const allNames = kinds.includes('names') ? [...new Set(reached.map((m) => m.facts.hostname).filter(safeName))] : undefined;
    const byHost = plans(reached, this.fleet ?? reached, wanted, allNames, kinds.includes('reachability'));
    const interpreters = new Map<string, Interpreter>();
    for (const m of reached) {
      const interpreter = interpreterOf(m, transports.get(m.host));
      if (interpreter) interpreters.set(m.host, interpreter);
    }
    const notes: string[] = [];
    const udpHeld = [...new Set(wanted.filter((w) => w.proto === 'udp' && listens(w.to, 'udp', UDP_PORT)).map((w) => w.to.host))];
    if (udpHeld.length) notes.push(`UDP ${UDP_PORT} is held (flannel's VXLAN) on ${udpHeld.join(', ')}: traffic to it is judged by the cni checks and smoke, not here`);
    // A host without perl or python3 dials from kubecheck's side (its sshd); the others keep their listeners up meanwhile.
    const clientSide = wanted.filter((w) => w.proto === 'tcp' && !interpreters.has(w.from.host));
    const outputs = new Map<string, ProbeOutput>();
    const notProbed: Record<string, string> = {};
    const lookups: NonNullable<FleetProbes['names']>['lookups'] = [];

    // Every probe listening (begun early, or started now with its whole plan), each waiting to be told to go:
    // the ones begun early are told the rest of their plan with it.
    const readyBy = Date.now() + READY_SECONDS * 1000;
    const startProbe = async (p: HostPlan): Promise<{ host: string; running: RunningCommand; dials: string[]; go: string } | undefined> => {
      const rest = {
        accepts: p.accepts,
        names: p.names,
        tcp: p.tcp.map((w): [string, number] => [w.address, w.port]),
        udp: p.udp.filter((w) => interpreters.has(w.to.host)).map((w): [string, string] => [w.to.host, w.address]),
        udpFrom: p.udpFrom.filter((h) => interpreters.has(h)),
      };
      const begun = this.early.get(p.member.host);
      const interpreter = interpreters.get(p.member.host)!;
      const started = begun ?? launch(transports.get(p.member.host)!, interpreter, probePlan({ me: p.member.host, ready: READY_SECONDS, seconds: PROBE_SECONDS, wait: WAIT_SECONDS, listen: p.listen, ...rest }), READY_SECONDS, signal);
      let timer: NodeJS.Timeout | undefined;
      try {
        const running = await Promise.race([started, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`not listening within ${READY_SECONDS} s`)), Math.max(0, readyBy - Date.now()))))]);
        const more = begun ? probePlan(rest) : '';
        return { host: p.member.host, running, dials: p.tcp.map(pathKey), go: more ? `go ${more}` : 'go' };
      } catch (err: unknown) {
        void started.then((r) => r.end(), () => undefined);
        notProbed[p.member.host] = `its probe did not run (${err instanceof Error ? err.message : String(err)})`;
        notes.push(`${p.member.host}: ${notProbed[p.member.host]}`);
        return undefined;
      } finally {
        clearTimeout(timer);
      }
    };
    const readOutput = async ({ host, running, dials }: { host: string; running: RunningCommand; dials: string[] }) => {
      try {
        const res = await running.result;
        outputs.set(host, parseProbeOutput(res.stdout, dials));
      } catch (err: unknown) {
        notProbed[host] = `its probe did not finish (${err instanceof Error ? err.message : String(err)})`;
        notes.push(`${host}: ${notProbed[host]}`);
      }
    };
    const lookUpWithGetent = async (p: HostPlan) => {
      if (!p.names.length) return;
      const t = transports.get(p.member.host)!;
      // No probe: one getent per name, as getent ahosts answers; one line, so it runs on the collector's held channel.
      const script = p.names.map((n) => `echo "== ${n}"; timeout 2 getent ahosts "${n}"; echo "rc=$?"`).join('; ');
      try {
        const res = await t.exec(script, { timeoutMs: 5_000 + p.names.length * 2_100, signal });
        const lookup: ProbeOutput['lookups'] = {};
        for (const block of res.stdout.split(/^== /m).slice(1)) {
          const name = block.split('\n')[0].trim();
          const rc = Number(/^rc=(\d+)$/m.exec(block)?.[1] ?? -1);
          lookup[name] = rc === 0 || rc === 2 ? parseAhosts(block) : rc === 124 ? 'timeout' : null;
        }
        outputs.set(p.member.host, { listen: {}, tcp: {}, inbound: [], acked: [], lookups: lookup });
      } catch (err: unknown) {
        notes.push(`${p.member.host}: its name lookups did not run (${err instanceof Error ? err.message : String(err)})`);
      }
    };
    const clientDials = new Map<string, string>();
    const dialFromClient = async (w: Wanted) => {
      // The targets' listeners start with their probes: a refusal is tried again for a moment.
      const until = Date.now() + (WAIT_SECONDS - 1) * 1000;
      await new Promise((r) => setTimeout(r, 300));
      for (;;) {
        try {
          await canConnect(transports.get(w.from.host)!, w.address, w.port, { timeoutMs: TRY_MS, signal });
          clientDials.set(`${w.from.host} ${pathKey(w)}`, 'connected');
          return;
        } catch (err: unknown) {
          const reason = (err instanceof Error ? err.message : String(err)).replace(`${w.address}:${w.port}: `, '');
          clientDials.set(`${w.from.host} ${pathKey(w)}`, reason);
          if (!refusedMeansOpen(reason) || Date.now() > until || signal.aborted) return;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    };
    for (const m of reached.filter((x) => !interpreters.has(x.host))) {
      if (wanted.some((w) => w.proto === 'udp' && (w.from === m || w.to === m) && !listens(w.to, 'udp', UDP_PORT))) notes.push(`${m.host} has neither perl nor python3: flannel's UDP ${UDP_PORT} to and from it is not probed`);
      if (wanted.some((w) => w.proto === 'tcp' && w.to === m && !listens(m, 'tcp', w.port))) notes.push(`${m.host} has neither perl nor python3 to listen with: its ports were probed with nothing listening (refused counts as reachable)`);
    }
    const plansAll = [...byHost.values()];
    const [started] = await Promise.all([
      Promise.all(plansAll.filter((p) => interpreters.has(p.member.host)).map(startProbe)),
      forEachLimited(plansAll.filter((p) => !interpreters.has(p.member.host)), 64, signal, lookUpWithGetent),
    ]);
    const ready = started.filter((x): x is NonNullable<typeof x> => x !== undefined);
    for (const r of ready) r.running.write(`${r.go}\n`);
    // Every probe says "done" when its part is complete; they keep answering each other until all have
    // (or the time is up), and the dials from kubecheck's side for hosts without a probe are made meanwhile.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([
        Promise.all(ready.map((r) => r.running.line(1).catch(() => undefined))),
        forEachLimited(clientSide, 16, signal, dialFromClient),
      ]),
      new Promise((resolve) => (timer = setTimeout(resolve, (WAIT_SECONDS + 1) * 1000))),
    ]).finally(() => clearTimeout(timer));
    for (const r of ready) {
      r.running.write('stop\n');
      r.running.end();
    }
    await Promise.all(ready.map(readOutput));

    const paths: PathProbe[] = [];
    for (const w of wanted) {
      const from = outputs.get(w.from.host);
      const to = outputs.get(w.to.host);
      const own = listens(w.to, w.proto, w.port);
      const probeListened = to?.listen[`${w.proto}/${w.port}`] === 'ready';
      if (w.proto === 'tcp') {
        const said = interpreters.has(w.from.host) ? from?.tcp[pathKey(w)] : clientDials.get(`${w.from.host} ${pathKey(w)}`);
        if (said === undefined) continue;
        if (said === 'connected') {
          paths.push({ from: w.from.host, to: w.to.host, address: w.address, port: w.port, proto: 'tcp', why: w.why, ok: true, detail: own ? 'connected (to its own listener)' : 'connected (to the probe\'s listener)' });
        } else {
          // With nothing listening there (no listener could be made), a refusal still shows the packets got there.
          const ok = !own && !probeListened && refusedMeansOpen(said);
          paths.push({ from: w.from.host, to: w.to.host, address: w.address, port: w.port, proto: 'tcp', why: w.why, ok, detail: ok ? `${said}: nothing listens there yet, but the host answered (a REJECT rule would look the same)` : said });
        }
      } else if (!own && !listens(w.from, 'udp', UDP_PORT) && interpreters.has(w.from.host) && interpreters.has(w.to.host) && probeListened && from?.listen[`udp/${UDP_PORT}`] === 'ready') {
        // from < to: to heard from's probe (or from got to's ack, which needs it); else from's ack reached to.
        const got = w.from.host < w.to.host ? (to?.inbound.includes(w.from.host) ?? false) || from.acked.includes(w.to.host) : (to?.acked.includes(w.from.host) ?? false);
        paths.push({ from: w.from.host, to: w.to.host, address: w.address, port: UDP_PORT, proto: 'udp', why: w.why, ok: got, detail: got ? 'datagrams arrived' : 'no datagram arrived (dropped on the way or by a firewall)' });
      }
    }
    for (const [host, o] of outputs) {
      for (const [port, state] of Object.entries(o.listen)) if (state !== 'ready') notes.push(`${host}: could not listen on ${port.replace(/^(tcp|udp)\/(\d+)$/, '$2/$1')} for the probe (${state})`);
      if (!allNames) continue;
      for (const [name, got] of Object.entries(o.lookups)) {
        // No answer in time is not knowing (null); a failed lookup is an answer: no address.
        lookups.push({ from: host, name, addresses: Array.isArray(got) ? got : got === 'timeout' ? null : [], ...(got === 'timeout' ? { detail: 'no answer within 2 s' } : {}) });
      }
    }
    const out: FleetProbes = {};
    if (kinds.includes('reachability')) {
      out.reachability = wanted.length
        ? { paths: paths.sort((a, b) => (a.from + a.to + a.port < b.from + b.to + b.port ? -1 : 1)), notes, ...(Object.keys(notProbed).length ? { notProbed } : {}) }
        : { paths: [], notes, skipped: 'no path to probe: no control-plane host among the reached hosts and no flannel' };
    }
    if (allNames) out.names = { lookups };
    return out;
  }
}

