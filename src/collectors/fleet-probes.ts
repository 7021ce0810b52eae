// Making the hosts talk to each other, over the one connection kubecheck holds to each: every host dials
// the control planes' 6443, the control planes dial every kubelet's 10250, etcd members dial each other's
// 2379-2380 (TCP, from the host's own sshd, as `ssh -W` does), and UDP 8472 datagrams go between every
// pair (flannel's VXLAN). Where nothing listens yet (before an install) a listener runs for the probe
// only — python3, else socat — under `timeout`, in a private folder it removes; it is stopped when the
// probe is done. Each host also looks up the other hosts' names. Only the inventory's hosts are dialled.
import type { FleetProbes, PathProbe } from '../core/facts.js';
import { forEachLimited } from '../core/pool.js';
import type { FleetMember, FleetProbeKind } from '../core/types.js';
import type { Transport } from '../transports/types.js';
import { defaultRouteAddress, kubeletAddress } from './node/node-address.js';
import { parseAhosts } from './node/preinstall.js';
import { runsFlannel } from '../profiles/profiles.js';

const TRY_MS = 3_000;
/** A listener's life at most: it exits on its own even if kubecheck never comes back to stop it. */
const LISTENER_SECONDS = 90;
const UDP_PORT = 8472;

interface Wanted {
  from: FleetMember;
  to: FleetMember;
  address: string;
  port: number;
  proto: 'tcp' | 'udp';
  why: string;
}

interface Listener {
  host: FleetMember;
  dir?: string;
  tool: 'python3' | 'socat' | 'none';
  ready: Set<string>;
  notes: string[];
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

const PYTHON = (tcp: number[], udp: number[]) => `
import select, socket, sys, time
socks = []
for proto, ports in (("tcp", ${JSON.stringify(tcp)}), ("udp", ${JSON.stringify(udp)})):
    for p in ports:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("0.0.0.0", p))
            if proto == "tcp":
                s.listen(128)
            socks.append((proto, p, s))
            print("ready", proto, p)
        except OSError as e:
            print("busy", proto, p, e.strerror)
print("up")
sys.stdout.flush()
end = time.time() + ${LISTENER_SECONDS}
while time.time() < end:
    r, _, _ = select.select([s for _, _, s in socks], [], [], 0.5)
    for proto, p, s in socks:
        if s not in r:
            continue
        if proto == "tcp":
            c, a = s.accept()
            c.close()
        else:
            d, a = s.recvfrom(512)
            print("udp", p, a[0], d.decode("utf-8", "replace").strip())
    sys.stdout.flush()
`;

/** Starts the probe's listener on a host for the ports nothing holds there; waits until it is bound. */
async function startListener(host: FleetMember, t: Transport, tcp: number[], udp: number[], signal: AbortSignal): Promise<Listener> {
  const tool = has(host, 'python3') ? 'python3' : has(host, 'socat') ? 'socat' : 'none';
  const l: Listener = { host, tool, ready: new Set(), notes: [] };
  if (tool === 'none' || (!tcp.length && !udp.length)) {
    if (tool === 'none' && (tcp.length || udp.length)) l.notes.push(`${host.host} has neither python3 nor socat to listen with: its ${[...tcp.map((p) => `${p}/tcp`), ...udp.map((p) => `${p}/udp`)].join(', ')} were probed with nothing listening (refused counts as reachable; UDP is not judged)`);
    return l;
  }
  const run = tool === 'python3'
    ? `cat > "$d/l.py" <<'KCPY'\n${PYTHON(tcp, udp)}\nKCPY\n(trap 'rm -rf "$d"' EXIT; timeout ${LISTENER_SECONDS + 5} python3 "$d/l.py" > "$d/log" 2>&1) >/dev/null 2>&1 &`
    : [
      // Each socat under its own timeout, whose pid is kept: stopping it stops that socat, nothing else.
      ...tcp.map((p) => `timeout ${LISTENER_SECONDS} socat TCP-LISTEN:${p},fork,reuseaddr SYSTEM:true >/dev/null 2>&1 & echo "pid $!" >> "$d/pids"; echo "ready tcp ${p}" >> "$d/log"`),
      ...udp.map((p) => `timeout ${LISTENER_SECONDS} socat -u UDP-RECVFROM:${p},fork OPEN:"$d/udp",creat,append >/dev/null 2>&1 & echo "pid $!" >> "$d/pids"; echo "ready udp ${p}" >> "$d/log"`),
      'echo up >> "$d/log"',
      `(sleep ${LISTENER_SECONDS + 5}; rm -rf "$d") >/dev/null 2>&1 &`,
    ].join('\n');
  const script = `d=$(mktemp -d /tmp/kubecheck-probe.XXXXXX) || exit 1\necho "dir $d"\n${run}\ni=0; while [ $i -lt 50 ]; do grep -q '^up' "$d/log" 2>/dev/null && break; sleep 0.1; i=$((i+1)); done\ncat "$d/log" 2>/dev/null\n`;
  try {
    const out = await t.exec(script, { timeoutMs: 15_000, signal });
    l.dir = /^dir (\S+)$/m.exec(out.stdout)?.[1];
    for (const m of out.stdout.matchAll(/^ready (tcp|udp) (\d+)$/gm)) l.ready.add(`${m[1]}/${m[2]}`);
    for (const m of out.stdout.matchAll(/^busy (tcp|udp) (\d+)(.*)$/gm)) l.notes.push(`${host.host}: could not listen on ${m[2]}/${m[1]} for the probe${m[3] ? ` (${m[3].trim()})` : ''}`);
  } catch (err: unknown) {
    l.notes.push(`${host.host}: the probe's listener did not start (${err instanceof Error ? err.message : String(err)})`);
  }
  return l;
}

/** Reads what a listener received, stops it and removes its folder. */
async function stopListener(l: Listener, t: Transport, signal: AbortSignal): Promise<string> {
  if (!l.dir || !/^\/tmp\/kubecheck-probe\.[A-Za-z0-9]+$/.test(l.dir)) return '';
  const script = l.tool === 'python3'
    ? `cat "${l.dir}/log" 2>/dev/null; pkill -f "${l.dir}/l.py" 2>/dev/null; i=0; while [ -e "${l.dir}" ] && [ $i -lt 30 ]; do sleep 0.1; i=$((i+1)); done; rm -rf "${l.dir}"`
    : `while read -r line; do echo "udp ${UDP_PORT} - $line"; done < "${l.dir}/udp" 2>/dev/null; [ -r "${l.dir}/pids" ] && kill $(while read -r p x; do echo "$x"; done < "${l.dir}/pids") 2>/dev/null; rm -rf "${l.dir}"`;
  try {
    return (await t.exec(script, { timeoutMs: 10_000, signal })).stdout;
  } catch {
    return '';
  }
}

/** Sends a few datagrams from one host to each target: python3, else socat, else bash's /dev/udp. */
async function sendUdp(from: FleetMember, t: Transport, targets: string[], signal: AbortSignal): Promise<string | undefined> {
  const payload = `kc-probe ${from.host}`;
  let script: string;
  if (has(from, 'python3')) script = `python3 -c 'import socket,time\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\nfor i in range(3):\n    for a in ${JSON.stringify(targets)}:\n        s.sendto(b"${payload}",(a,${UDP_PORT}))\n    time.sleep(0.05)'`;
  else if (has(from, 'socat')) script = targets.map((a) => `for i in 1 2 3; do echo "${payload}" | timeout 2 socat -u - UDP-SENDTO:${a}:${UDP_PORT}; done`).join('\n');
  else if (has(from, 'bash')) script = `bash -c '${targets.map((a) => `for i in 1 2 3; do echo "${payload}" > /dev/udp/${a}/${UDP_PORT}; done`).join('; ')}'`;
  else return `${from.host} has no python3, socat or bash to send UDP from`;
  try {
    await t.exec(script, { timeoutMs: 10_000, signal });
    return undefined;
  } catch (err: unknown) {
    return `${from.host}: sending UDP failed (${err instanceof Error ? err.message : String(err)})`;
  }
}

const refusedMeansOpen = (detail: string) => /refused/i.test(detail);

async function reachability(members: readonly FleetMember[], transports: Map<string, Transport>, signal: AbortSignal): Promise<NonNullable<FleetProbes['reachability']>> {
  const wanted = wantedPaths(members).filter((w) => transports.has(w.from.host) && transports.has(w.to.host));
  const notes: string[] = [];
  if (!wanted.length) return { paths: [], notes, skipped: 'no path to probe: no control-plane host among the reached hosts and no flannel' };
  // What each target must listen on for the probe (ports its own components do not hold already).
  const needs = new Map<string, { tcp: Set<number>; udp: Set<number> }>();
  for (const w of wanted) {
    if (listens(w.to, w.proto, w.port)) continue;
    const n = needs.get(w.to.host) ?? { tcp: new Set(), udp: new Set() };
    n[w.proto].add(w.port);
    needs.set(w.to.host, n);
  }
  const udpHeld = wanted.filter((w) => w.proto === 'udp' && listens(w.to, 'udp', UDP_PORT)).map((w) => w.to.host);
  if (udpHeld.length) notes.push(`UDP ${UDP_PORT} is held (flannel's VXLAN) on ${[...new Set(udpHeld)].join(', ')}: traffic to it is judged by the cni checks and smoke, not here`);
  const byHost = new Map(members.map((m) => [m.host, m]));
  const listeners: Listener[] = [];
  const paths: PathProbe[] = [];
  try {
    await forEachLimited([...needs], 16, signal, async ([host, n]) => {
      listeners.push(await startListener(byHost.get(host)!, transports.get(host)!, [...n.tcp].sort(), [...n.udp].sort(), signal));
    });
    const listenerOf = new Map(listeners.map((l) => [l.host.host, l]));
    for (const l of listeners) notes.push(...l.notes);
    // TCP: each path from its source's sshd.
    const tcp = wanted.filter((w) => w.proto === 'tcp');
    await forEachLimited(tcp, 16, signal, async (w) => {
      const own = listens(w.to, 'tcp', w.port);
      const probe = listenerOf.get(w.to.host)?.ready.has(`tcp/${w.port}`);
      let ok: boolean;
      let detail: string;
      try {
        const stream = await transports.get(w.from.host)!.connectTcp!(w.address, w.port, { timeoutMs: TRY_MS, signal });
        stream.destroy();
        ok = true;
        detail = own ? 'connected (to its own listener)' : 'connected (to the probe\'s listener)';
      } catch (err: unknown) {
        const reason = (err instanceof Error ? err.message : String(err)).replace(`${w.address}:${w.port}: `, '');
        // With nothing listening (no tool for a probe listener), a refusal still shows the packets got there.
        ok = !own && !probe && refusedMeansOpen(reason);
        detail = ok ? `${reason}: nothing listens there yet, but the host answered (a REJECT rule would look the same)` : reason;
      }
      paths.push({ from: w.from.host, to: w.to.host, address: w.address, port: w.port, proto: 'tcp', why: w.why, ok, detail });
    });
    // UDP: send from every source at once, then read what each listener got.
    const udp = wanted.filter((w) => w.proto === 'udp' && listenerOf.get(w.to.host)?.ready.has(`udp/${UDP_PORT}`));
    const bySource = new Map<string, Wanted[]>();
    for (const w of udp) bySource.set(w.from.host, [...(bySource.get(w.from.host) ?? []), w]);
    const sendProblems = new Map<string, string>();
    await forEachLimited([...bySource], 16, signal, async ([from, ws]) => {
      const problem = await sendUdp(byHost.get(from)!, transports.get(from)!, [...new Set(ws.map((w) => w.address))], signal);
      if (problem) sendProblems.set(from, problem);
    });
    await new Promise((r) => setTimeout(r, udp.length ? 1_000 : 0));
    const received = new Map<string, Set<string>>();
    await forEachLimited(listeners, 16, signal, async (l) => {
      const out = await stopListener(l, transports.get(l.host.host)!, signal);
      l.dir = undefined;
      received.set(l.host.host, new Set([...out.matchAll(/^udp \d+ \S+ kc-probe (\S+)$/gm)].map((m) => m[1])));
    });
    for (const w of udp) {
      const problem = sendProblems.get(w.from.host);
      const got = received.get(w.to.host)?.has(w.from.host) ?? false;
      paths.push({ from: w.from.host, to: w.to.host, address: w.address, port: UDP_PORT, proto: 'udp', why: w.why, ok: got, detail: got ? 'datagrams arrived' : problem ?? 'no datagram arrived (dropped on the way or by a firewall)' });
    }
  } finally {
    // Whatever happened above, no listener or folder is left behind.
    await Promise.all(listeners.filter((l) => l.dir).map((l) => stopListener(l, transports.get(l.host.host)!, new AbortController().signal)));
  }
  return { paths: paths.sort((a, b) => (a.from + a.to + a.port < b.from + b.to + b.port ? -1 : 1)), notes };
}

const LOOKUP_PY = `
import socket, sys, threading, time
found = {}
def look(n):
    try:
        addrs = []
        for a in socket.getaddrinfo(n, None, 0, socket.SOCK_STREAM):
            if a[4][0] not in addrs:
                addrs.append(a[4][0])
        found[n] = addrs
    except OSError:
        found[n] = None
names = sys.argv[1:]
threads = [threading.Thread(target=look, args=(n,), daemon=True) for n in names]
for t in threads:
    t.start()
end = time.time() + 2
for t in threads:
    t.join(max(0, end - time.time()))
for n in names:
    print("== " + n)
    if n not in found:
        print("rc=124")
    elif found[n] is None:
        print("rc=2")
    else:
        for a in found[n]:
            print(a + " STREAM " + n)
        print("rc=0")
sys.stdout.flush()
`.trim();

/** Each host looks up every other host's name (and its own), as the kubelet and tools on it would. */
async function names(members: readonly FleetMember[], transports: Map<string, Transport>, signal: AbortSignal): Promise<NonNullable<FleetProbes['names']>> {
  // Only names that are names: a host's reported hostname is never pasted into another host's shell otherwise.
  const all = [...new Set(members.map((m) => m.facts.hostname).filter((n) => /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/.test(n)))];
  const lookups: NonNullable<FleetProbes['names']>['lookups'] = [];
  await forEachLimited(members.filter((m) => transports.has(m.host)), 16, signal, async (m) => {
    const wantedNames = all.length > 64 ? [...new Set([...members.filter(isControlPlane).map((c) => c.facts.hostname), m.facts.hostname])].filter((n) => all.includes(n)) : all;
    // One process for all names where python3 is there (getaddrinfo, as getent ahosts calls it, each name
    // in its own thread, 2 s for all); else one getent per name. Both print what getent ahosts prints.
    const script = has(m, 'python3')
      ? `python3 -c '${LOOKUP_PY}' ${wantedNames.map((n) => `"${n}"`).join(' ')}`
      : wantedNames.map((n) => `echo "== ${n}"; timeout 2 getent ahosts "${n}"; echo "rc=$?"`).join('\n');
    try {
      const out = (await transports.get(m.host)!.exec(script, { timeoutMs: 5_000 + wantedNames.length * 2_100, signal })).stdout;
      for (const block of out.split(/^== /m).slice(1)) {
        const name = block.split('\n')[0].trim();
        const rc = Number(/^rc=(\d+)$/m.exec(block)?.[1] ?? -1);
        lookups.push({ from: m.host, name, addresses: rc === 0 || rc === 2 ? parseAhosts(block) : null, ...(rc === 124 ? { detail: 'no answer within 2 s' } : rc > 2 ? { detail: `getent failed (${rc})` } : {}) });
      }
    } catch (err: unknown) {
      lookups.push(...wantedNames.map((name) => ({ from: m.host, name, addresses: null, detail: err instanceof Error ? err.message : String(err) })));
    }
  });
  return { lookups };
}

export async function probeFleet(members: readonly FleetMember[], transports: Map<string, Transport>, kinds: FleetProbeKind[], signal: AbortSignal): Promise<FleetProbes> {
  const out: FleetProbes = {};
  if (kinds.includes('reachability')) out.reachability = await reachability(members, transports, signal);
  if (kinds.includes('names')) out.names = await names(members, transports, signal);
  return out;
}
