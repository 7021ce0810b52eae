// Making the hosts talk to each other, over the one connection kubecheck holds to each, on the exec
// session its collector ran in (held open for this: HeldTransport): every host dials the control planes'
// 6443, the control planes dial every kubelet's 10250, etcd members dial each other's 2379-2380, and UDP
// 8472 datagrams go between every pair (flannel's VXLAN),
// each from the source host itself to the address the cluster will use. Where nothing listens yet (before
// an install) the target's probe listens for the time of the probe only. Each host also looks up the other
// hosts' names. A host without python3 is dialled from through its sshd (as `ssh -W` does) and looks names
// up with getent; UDP to and from it is not judged. Only the inventory's hosts are dialled.
import { deflateSync } from 'node:zlib';
import type { FleetProbes, PathProbe } from '../core/facts.js';
import { forEachLimited } from '../core/pool.js';
import type { FleetMember, FleetProbeKind } from '../core/types.js';
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

/** The paths a cluster of these hosts needs, to the addresses the cluster will use. */
export function wantedPaths(members: readonly FleetMember[]): Wanted[] {
  const out: Wanted[] = [];
  const advertise = (m: FleetMember) => defaultRouteAddress(m.facts)?.address ?? m.address;
  for (const cp of members.filter(isControlPlane)) {
    const api = advertise(cp);
    for (const m of members) if (m !== cp && api) out.push({ from: m, to: cp, address: api, port: 6443, proto: 'tcp', why: 'the API server' });
    for (const m of members) {
      const kubelet = kubeletAddress(m.facts).address ?? m.address;
      if (m !== cp && kubelet) out.push({ from: cp, to: m, address: kubelet, port: 10250, proto: 'tcp', why: 'the kubelet API (logs, exec, metrics)' });
    }
  }
  const etcd = members.filter(isEtcd);
  for (const a of etcd) {
    for (const b of etcd) {
      const addr = advertise(b);
      if (a === b || !addr) continue;
      out.push({ from: a, to: b, address: addr, port: 2379, proto: 'tcp', why: 'etcd clients' }, { from: a, to: b, address: addr, port: 2380, proto: 'tcp', why: 'etcd peers' });
    }
  }
  const flannel = members.filter((m) => runsFlannel(m.facts.profile.cni));
  for (const a of flannel) {
    for (const b of flannel) {
      const addr = defaultRouteAddress(b.facts)?.address ?? b.address;
      if (a !== b && addr) out.push({ from: a, to: b, address: addr, port: UDP_PORT, proto: 'udp', why: 'flannel VXLAN' });
    }
  }
  return out;
}

/**
 * The probe each host runs, once: listeners on the ports nothing holds there yet and name lookups; then
 * "ready", and it waits for kubecheck's "go" on its stdin, sent when every host's probe listens (starting
 * a process takes a busy host a second or more, so hosts started together are not ready together). Then
 * a TCP connect to each target (a refusal tried again until the end) and VXLAN datagrams to each peer
 * from the host's own 8472 socket, resent until the peer acknowledges (the ack comes back to 8472). It
 * ends as soon as every answer is in — its own paths connected or failed, every peer acknowledged and
 * heard from, every dial it expects received — or at the deadline, and prints one JSON line. No file is
 * written, and it runs under `timeout`: nothing outlives it.
 */
const PROBE_PY = `
import errno, json, os, select, socket, sys, threading, time
plan = json.loads(sys.argv[1])
me = plan["me"]
start = time.time()
out = {"listen": {}, "tcp": {}, "inbound": [], "acked": [], "lookups": {}}
socks = []
for proto in ("tcp", "udp"):
    for p in plan["listen"][proto]:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("0.0.0.0", p))
            if proto == "tcp":
                s.listen(128)
            s.setblocking(False)
            socks.append((proto, s))
            out["listen"][proto + "/" + str(p)] = "ready"
        except OSError as e:
            out["listen"][proto + "/" + str(p)] = e.strerror or str(e)
            s.close()
udp = next((s for proto, s in socks if proto == "udp"), None)
def look(n):
    try:
        addrs = []
        for a in socket.getaddrinfo(n, None, 0, socket.SOCK_STREAM):
            if a[4][0] not in addrs:
                addrs.append(a[4][0])
        out["lookups"][n] = addrs
    except OSError:
        out["lookups"][n] = None
def dial(key, addr, port):
    # Refused: the peer's probe may not listen yet (its exec can start seconds later), tried until the end.
    # No answer at all (dropped) is given up after the dial window.
    last = "timed out"
    while time.time() < end:
        try:
            c = socket.create_connection((addr, port), timeout=max(0.1, min(1.0, end - time.time())))
            c.close()
            last = "connected"
            break
        except socket.timeout:
            last = "timed out"
            if time.time() >= dial_end:
                break
        except OSError as e:
            last = e.strerror or str(e)
            if e.errno != errno.ECONNREFUSED:
                break
            time.sleep(0.1)
    out["tcp"][key] = last
workers = [threading.Thread(target=look, args=(n,), daemon=True) for n in plan["names"]]
for w in workers:
    w.start()
# Listening: say so, and wait to be told that every host listens too (or give up with what we have).
print("ready", flush=True)
def said():
    data = os.read(0, 64)
    return data.decode("utf-8", "replace").split("\\n")[0].strip() if data else ""
told = bool(select.select([0], [], [], plan["ready"])[0]) and said() == "go"
start = time.time()
dial_end = start + plan["seconds"]
end = start + plan["wait"]
dials = [threading.Thread(target=dial, args=tuple(t), daemon=True) for t in plan["tcp"]] if told else []
for w in dials:
    w.start()
accepted = {}
peers = dict(plan["udp"])
expect = set(plan["udpFrom"])
acked, heard = set(), set()
unacked = set(peers)
order = sorted(peers)
last_sent = {}
next_send = 0.0
said_done = False
tcps = [s for proto, s in socks if proto == "tcp"]
# Every wake-up drains what arrived. Of each pair of hosts the first (by name) sends "kc-probe" until the
# other's "kc-ack" comes back: the probe shows one direction, the ack (from the other's 8472) the other.
# When its own part is complete it says "done" and goes on answering the others (a busy host's process
# can be seconds behind) until kubecheck says "stop" (or closes stdin), or the end.
while told:
    now = time.time()
    if now >= end:
        break
    if not said_done:
        looked = len(out["lookups"]) >= len(plan["names"]) or now > start + 2
        dialled = len(out["tcp"]) >= len(plan["tcp"])
        # A listener stays until every host meant to dial it did: a peer may be late.
        came = all(accepted.get(p, 0) >= n for p, n in plan["accepts"].items())
        if looked and dialled and came and (udp is None or (not unacked and heard >= expect)):
            print("done", flush=True)
            said_done = True
    if udp is not None and unacked and now >= next_send:
        # A few peers per tick, none again within half a second: fifty hosts starting together do not
        # all ask for each other's link-layer address in the same instant.
        batch = [n for n in order if n in unacked and now - last_sent.get(n, 0) >= 0.5][:8]
        for name in batch:
            last_sent[name] = now
            try:
                udp.sendto(("kc-probe " + me).encode(), (peers[name], 8472))
            except OSError:
                pass
        next_send = now + 0.05
    wait = min(0.25, max(0.0, end - now))
    if udp is not None and unacked:
        wait = min(wait, max(0.0, next_send - now))
    r = select.select([0] + [s for _, s in socks], [], [], wait)[0]
    if 0 in r and said() != "go":
        break
    for s in tcps:
        if s not in r:
            continue
        try:
            s.accept()[0].close()
            port = str(s.getsockname()[1])
            accepted[port] = accepted.get(port, 0) + 1
        except OSError:
            pass
    if udp is None or udp not in r:
        continue
    while True:
        try:
            d, a = udp.recvfrom(512)
        except OSError:
            break
        words = d.decode("utf-8", "replace").split()
        if len(words) == 2 and words[0] == "kc-probe":
            heard.add(words[1])
            try:
                udp.sendto(("kc-ack " + me).encode(), a)
            except OSError:
                pass
        elif len(words) == 2 and words[0] == "kc-ack":
            acked.add(words[1])
            unacked.discard(words[1])
for w in dials:
    w.join(1.2)
for n in plan["names"]:
    out["lookups"].setdefault(n, "timeout")
out["inbound"] = sorted(heard)
out["acked"] = sorted(acked)
print(json.dumps(out))
`.trim();

/** What one host's probe prints. */
interface ProbeOutput {
  listen: Record<string, string>;
  tcp: Record<string, string>;
  inbound: string[];
  acked: string[];
  lookups: Record<string, string[] | null | 'timeout'>;
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

/**
 * The probe as one command line (it may go to a held collector's channel, which runs one line): the
 * program compressed into the line, as python3 -c runs it (-I -S: no site packages or user environment:
 * the probe needs only the standard library, and starts ~10 % sooner, ~100 ms on these hosts).
 */
const PROBE_COMMAND = `python3 -I -S -c ${quote(`import base64,zlib;exec(zlib.decompress(base64.b64decode("${deflateSync(PROBE_PY, { level: 9 }).toString('base64')}")))`)}`;

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

/** Each host's part of the probe: what it listens on, looks up, dials and sends to. */
function plans(members: readonly FleetMember[], wanted: Wanted[], names: string[] | undefined): Map<string, HostPlan> {
  const out = new Map<string, HostPlan>(members.map((m) => [m.host, { member: m, listen: { tcp: [], udp: [] }, names: [], tcp: [], udp: [], udpFrom: [], accepts: {} }]));
  const cps = new Set(members.filter(isControlPlane).map((c) => c.facts.hostname));
  for (const m of members) {
    const p = out.get(m.host)!;
    // Everyone looks up everyone (the control planes and itself only, above 64 hosts).
    if (names) p.names = names.length > 64 ? names.filter((n) => cps.has(n) || n === m.facts.hostname) : names;
  }
  for (const w of wanted) {
    const from = out.get(w.from.host)!;
    const to = out.get(w.to.host)!;
    if (!listens(w.to, w.proto, w.port) && !to.listen[w.proto].includes(w.port)) to.listen[w.proto].push(w.port);
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

/** Runs every host's probe at once (hosts with python3; the others are probed from kubecheck's side). */
export async function probeFleet(members: readonly FleetMember[], transports: Map<string, Transport>, kinds: FleetProbeKind[], signal: AbortSignal): Promise<FleetProbes> {
  const reached = members.filter((m) => transports.has(m.host));
  const wanted = kinds.includes('reachability') ? wantedPaths(reached) : [];
  const allNames = kinds.includes('names') ? [...new Set(reached.map((m) => m.facts.hostname).filter(safeName))] : undefined;
  const byHost = plans(reached, wanted, allNames);
  const withPython = new Set(reached.filter((m) => has(m, 'python3') && safeName(m.host) && transports.get(m.host)?.start).map((m) => m.host));
  const notes: string[] = [];
  const udpHeld = [...new Set(wanted.filter((w) => w.proto === 'udp' && listens(w.to, 'udp', UDP_PORT)).map((w) => w.to.host))];
  if (udpHeld.length) notes.push(`UDP ${UDP_PORT} is held (flannel's VXLAN) on ${udpHeld.join(', ')}: traffic to it is judged by the cni checks and smoke, not here`);
  // A host without python3 dials from kubecheck's side (its sshd); the others keep their listeners up meanwhile.
  const clientSide = wanted.filter((w) => w.proto === 'tcp' && !withPython.has(w.from.host));
  const outputs = new Map<string, ProbeOutput>();
  const notProbed: Record<string, string> = {};
  const lookups: NonNullable<FleetProbes['names']>['lookups'] = [];

  // Every probe started at once, each waiting to be told to go.
  const startProbe = async (p: HostPlan): Promise<{ host: string; running: RunningCommand } | undefined> => {
    const t = transports.get(p.member.host)!;
    const plan = {
      me: p.member.host,
      ready: READY_SECONDS,
      seconds: PROBE_SECONDS,
      wait: WAIT_SECONDS,
      accepts: p.accepts,
      listen: p.listen,
      names: p.names,
      tcp: p.tcp.map((w) => [pathKey(w), w.address, w.port]),
      udp: p.udp.filter((w) => withPython.has(w.to.host)).map((w) => [w.to.host, w.address]),
      udpFrom: p.udpFrom.filter((h) => withPython.has(h)),
    };
    let running: RunningCommand | undefined;
    try {
      running = await t.start!(`timeout ${READY_SECONDS + WAIT_SECONDS + 4} ${PROBE_COMMAND} ${quote(JSON.stringify(plan))}`, { timeoutMs: (READY_SECONDS + WAIT_SECONDS + 15) * 1000, signal });
      let timer: NodeJS.Timeout | undefined;
      const line = await Promise.race([running.line(0), new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`not listening within ${READY_SECONDS} s`)), READY_SECONDS * 1000)))]).finally(() => clearTimeout(timer));
      if (line.trim() !== 'ready') throw new Error(`it printed ${JSON.stringify(line.slice(0, 200))}`);
      return { host: p.member.host, running };
    } catch (err: unknown) {
      running?.end();
      notProbed[p.member.host] = `its probe did not run (${err instanceof Error ? err.message : String(err)})`;
      notes.push(`${p.member.host}: ${notProbed[p.member.host]}`);
      return undefined;
    }
  };
  const readOutput = async ({ host, running }: { host: string; running: RunningCommand }) => {
    try {
      const res = await running.result;
      outputs.set(host, JSON.parse(res.stdout.trim().split('\n').pop() ?? '') as ProbeOutput);
    } catch (err: unknown) {
      notProbed[host] = `its probe did not finish (${err instanceof Error ? err.message : String(err)})`;
      notes.push(`${host}: ${notProbed[host]}`);
    }
  };
  const lookUpWithGetent = async (p: HostPlan) => {
    if (!p.names.length) return;
    const t = transports.get(p.member.host)!;
    // No python3: one getent per name, as getent ahosts answers.
    const script = p.names.map((n) => `echo "== ${n}"; timeout 2 getent ahosts "${n}"; echo "rc=$?"`).join('\n');
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
  for (const m of reached.filter((x) => !withPython.has(x.host))) {
    if (wanted.some((w) => w.proto === 'udp' && (w.from === m || w.to === m) && !listens(w.to, 'udp', UDP_PORT))) notes.push(`${m.host} has no python3: flannel's UDP ${UDP_PORT} to and from it is not probed`);
    if (wanted.some((w) => w.proto === 'tcp' && w.to === m && !listens(m, 'tcp', w.port))) notes.push(`${m.host} has no python3 to listen with: its ports were probed with nothing listening (refused counts as reachable)`);
  }
  const plansAll = [...byHost.values()];
  const [started] = await Promise.all([
    Promise.all(plansAll.filter((p) => withPython.has(p.member.host)).map(startProbe)),
    forEachLimited(plansAll.filter((p) => !withPython.has(p.member.host)), 64, signal, lookUpWithGetent),
  ]);
  const ready = started.filter((x): x is NonNullable<typeof x> => x !== undefined);
  for (const r of ready) r.running.write('go\n');
  // Every probe says "done" when its part is complete; they keep answering each other until all have
  // (or the time is up), and the dials from kubecheck's side for hosts without python3 are made meanwhile.
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
      const said = withPython.has(w.from.host) ? from?.tcp[pathKey(w)] : clientDials.get(`${w.from.host} ${pathKey(w)}`);
      if (said === undefined) continue;
      if (said === 'connected') {
        paths.push({ from: w.from.host, to: w.to.host, address: w.address, port: w.port, proto: 'tcp', why: w.why, ok: true, detail: own ? 'connected (to its own listener)' : 'connected (to the probe\'s listener)' });
      } else {
        // With nothing listening there (no listener could be made), a refusal still shows the packets got there.
        const ok = !own && !probeListened && refusedMeansOpen(said);
        paths.push({ from: w.from.host, to: w.to.host, address: w.address, port: w.port, proto: 'tcp', why: w.why, ok, detail: ok ? `${said}: nothing listens there yet, but the host answered (a REJECT rule would look the same)` : said });
      }
    } else if (!own && !listens(w.from, 'udp', UDP_PORT) && withPython.has(w.from.host) && withPython.has(w.to.host) && probeListened && from?.listen[`udp/${UDP_PORT}`] === 'ready') {
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
