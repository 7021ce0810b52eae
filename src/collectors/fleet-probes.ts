// Making the hosts talk to each other, over the one connection kubecheck holds to each, in one exec per
// host: every host dials the control planes' 6443, the control planes dial every kubelet's 10250, etcd
// members dial each other's 2379-2380, and UDP 8472 datagrams go between every pair (flannel's VXLAN),
// each from the source host itself to the address the cluster will use. Where nothing listens yet (before
// an install) the target's probe listens for the time of the probe only. Each host also looks up the other
// hosts' names. A host without python3 is dialled from through its sshd (as `ssh -W` does) and looks names
// up with getent; UDP to and from it is not judged. Only the inventory's hosts are dialled.
import type { FleetProbes, PathProbe } from '../core/facts.js';
import { forEachLimited } from '../core/pool.js';
import type { FleetMember, FleetProbeKind } from '../core/types.js';
import { type Transport, canConnect } from '../transports/types.js';
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
 * The probe each host runs, once: listeners on the ports nothing holds there yet, name lookups, a TCP
 * connect to each target (refusals retried until the deadline: a peer's listener may start a moment
 * later), and VXLAN datagrams to each peer from the host's own 8472 socket, resent until the peer
 * acknowledges (the ack comes back to 8472). It ends as soon as every answer is in — its own paths
 * connected or failed, every peer acknowledged and heard from — or at the deadline, and prints one JSON
 * line. No file is written, and it runs under `timeout`: nothing outlives it.
 */
const PROBE_PY = `
import errno, json, select, socket, sys, threading, time
plan = json.loads(sys.argv[1])
me = plan["me"]
start = time.time()
dial_end = start + plan["seconds"]
end = start + plan["wait"]
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
dials = [threading.Thread(target=dial, args=tuple(t), daemon=True) for t in plan["tcp"]]
for w in workers + dials:
    w.start()
accepted = {}
peers = dict(plan["udp"])
expect = set(plan["udpFrom"])
acked, heard = set(), set()
next_send = 0.0
quiet_until = start + plan["hold"]
while True:
    now = time.time()
    looked = all(n in out["lookups"] for n in plan["names"]) or now > start + 2
    dialled = all(t[0] in out["tcp"] for t in plan["tcp"])
    # A listener stays until every host meant to dial it did (or the end): a peer may start late.
    came = all(accepted.get(p, 0) >= n for p, n in plan["accepts"].items())
    done = looked and dialled and came and (udp is None or (acked >= set(peers) and heard >= expect))
    if (done and now >= quiet_until) or now >= end:
        break
    if udp is not None and now >= next_send:
        for name, addr in peers.items():
            if name not in acked:
                try:
                    udp.sendto(("kc-probe " + me).encode(), (addr, 8472))
                except OSError:
                    pass
        next_send = now + 0.1
    r, _, _ = select.select([s for _, s in socks], [], [], 0.05) if socks else ([], [], time.sleep(0.05))
    for proto, s in socks:
        if s not in r:
            continue
        if proto == "tcp":
            try:
                s.accept()[0].close()
                port = str(s.getsockname()[1])
                accepted[port] = accepted.get(port, 0) + 1
            except OSError:
                pass
            continue
        try:
            d, a = s.recvfrom(512)
        except OSError:
            continue
        words = d.decode("utf-8", "replace").split()
        if len(words) == 2 and words[0] == "kc-probe":
            heard.add(words[1])
            try:
                s.sendto(("kc-ack " + me).encode(), a)
            except OSError:
                pass
        elif len(words) == 2 and words[0] == "kc-ack":
            acked.add(words[1])
        if done:
            quiet_until = max(quiet_until, time.time() + 0.3)
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
  lookups: Record<string, string[] | null | 'timeout'>;
}

/** How long a path that drops packets is given; a refusal is tried again until WAIT_SECONDS. */
const PROBE_SECONDS = 3;
/**
 * The longest a host's probe runs: it ends as soon as its own dials are answered and every host meant to
 * reach it did, which takes well under a second on a healthy network; only a peer that starts late (one
 * host's exec can start seconds after the others') or a blocked path makes it wait.
 */
const WAIT_SECONDS = 8;

/** Names and members' names that may go into another host's command line. */
const safeName = (n: string) => /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/.test(n);
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

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
    else if (!listens(w.to, 'udp', UDP_PORT)) {
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
  const withPython = new Set(reached.filter((m) => has(m, 'python3') && safeName(m.host)).map((m) => m.host));
  const notes: string[] = [];
  const udpHeld = [...new Set(wanted.filter((w) => w.proto === 'udp' && listens(w.to, 'udp', UDP_PORT)).map((w) => w.to.host))];
  if (udpHeld.length) notes.push(`UDP ${UDP_PORT} is held (flannel's VXLAN) on ${udpHeld.join(', ')}: traffic to it is judged by the cni checks and smoke, not here`);
  // A host without python3 dials from kubecheck's side (its sshd); the others keep their listeners up meanwhile.
  const clientSide = wanted.filter((w) => w.proto === 'tcp' && !withPython.has(w.from.host));
  const hold = clientSide.length ? PROBE_SECONDS - 0.5 : 0;
  const outputs = new Map<string, ProbeOutput>();
  const lookups: NonNullable<FleetProbes['names']>['lookups'] = [];

  const runHost = async (p: HostPlan) => {
    const t = transports.get(p.member.host)!;
    if (withPython.has(p.member.host)) {
      const plan = {
        me: p.member.host,
        seconds: PROBE_SECONDS,
        wait: WAIT_SECONDS,
        hold,
        accepts: p.accepts,
        listen: p.listen,
        names: p.names,
        tcp: p.tcp.map((w) => [pathKey(w), w.address, w.port]),
        udp: p.udp.filter((w) => withPython.has(w.to.host)).map((w) => [w.to.host, w.address]),
        udpFrom: p.udpFrom.filter((h) => withPython.has(h)),
      };
      try {
        const res = await t.exec(`timeout ${WAIT_SECONDS + 4} python3 -c ${quote(PROBE_PY)} ${quote(JSON.stringify(plan))}`, { timeoutMs: (WAIT_SECONDS + 15) * 1000, signal });
        const line = res.stdout.trim().split('\n').pop() ?? '';
        outputs.set(p.member.host, JSON.parse(line) as ProbeOutput);
      } catch (err: unknown) {
        notes.push(`${p.member.host}: the probe did not run (${err instanceof Error ? err.message : String(err)})`);
      }
    } else if (p.names.length) {
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
        outputs.set(p.member.host, { listen: {}, tcp: {}, inbound: [], lookups: lookup });
      } catch (err: unknown) {
        notes.push(`${p.member.host}: its name lookups did not run (${err instanceof Error ? err.message : String(err)})`);
      }
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
  await Promise.all([
    forEachLimited([...byHost.values()], 64, signal, runHost),
    forEachLimited(clientSide, 16, signal, dialFromClient),
  ]);

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
    } else if (!own && withPython.has(w.from.host) && withPython.has(w.to.host) && probeListened && from) {
      const got = to?.inbound.includes(w.from.host) ?? false;
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
      ? { paths: paths.sort((a, b) => (a.from + a.to + a.port < b.from + b.to + b.port ? -1 : 1)), notes }
      : { paths: [], notes, skipped: 'no path to probe: no control-plane host among the reached hosts and no flannel' };
  }
  if (allNames) out.names = { lookups };
  return out;
}
