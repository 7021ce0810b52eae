# kubecheck's probe between hosts for hosts without perl (probe.pl is the one most hosts run): the same
# plan, the same "ready"/"go"/"done"/"stop" exchange on stdin and stdout and the same result lines
# (src/collectors/fleet-probes.ts). Nothing is written to disk; `timeout` around it ends it.
import errno, os, select, socket, sys, threading, time
plan, listen, names, tcp, udp_peers, expect, accepts = {}, [], [], [], {}, set(), {}
# The plan: from the command line and, for a probe started before the other hosts' facts were in, its "go" line.
def add_plan(text):
    for rec in text.split(";"):
        f = rec.split(" ")
        if f[0] == "listen":
            listen.append((f[1], int(f[2])))
        elif f[0] == "name":
            names.append(f[1])
        elif f[0] == "tcp":
            tcp.append((f[1], int(f[2])))
        elif f[0] == "udp":
            udp_peers[f[1]] = f[2]
        elif f[0] == "udpfrom":
            expect.add(f[1])
        elif f[0] == "accept":
            accepts[f[1]] = int(f[2])
        elif f[0]:
            plan[f[0]] = f[1]
add_plan(sys.argv[1])
me = plan["me"]
out, looked, res = [], {}, {}
socks = []
for proto, p in listen:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("0.0.0.0", p))
        if proto == "tcp":
            s.listen(128)
        s.setblocking(False)
        socks.append((proto, s))
        out.append("listen %s/%d ready" % (proto, p))
    except OSError as e:
        out.append("listen %s/%d %s" % (proto, p, e.strerror or str(e)))
        s.close()
udp = next((s for proto, s in socks if proto == "udp"), None)
def look(n):
    try:
        addrs = []
        for a in socket.getaddrinfo(n, None, 0, socket.SOCK_STREAM):
            if a[4][0] not in addrs:
                addrs.append(a[4][0])
        looked[n] = "lookup %s %s" % (n, " ".join(addrs) or "-")
    except OSError:
        looked[n] = "lookup %s -" % n
def dial(i, addr, port):
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
    res[i] = last
for n in names:
    threading.Thread(target=look, args=(n,), daemon=True).start()
early = len(names)
# Listening: say so, and wait to be told that every host listens too (or give up with what we have).
print("ready", flush=True)
inbuf = b""
def said():
    # The next line kubecheck sends, read whole ("" at the end of input): a "go" line with a plan is long.
    global inbuf
    while b"\n" not in inbuf:
        data = os.read(0, 65536)
        if not data:
            break
        inbuf += data
    line, _, inbuf = inbuf.partition(b"\n")
    return line.decode("utf-8", "replace").strip()
go = said() if select.select([0], [], [], float(plan["ready"]))[0] else ""
told = go == "go" or go.startswith("go ")
if told and go.startswith("go "):
    add_plan(go[3:])
for n in names[early:]:
    threading.Thread(target=look, args=(n,), daemon=True).start()
start = time.time()
dial_end = start + float(plan["seconds"])
end = start + float(plan["wait"])
dials = [threading.Thread(target=dial, args=(i, a, p), daemon=True) for i, (a, p) in enumerate(tcp)] if told else []
for w in dials:
    w.start()
accepted = {}
acked, heard = set(), set()
unacked = set(udp_peers)
order = sorted(udp_peers)
last_sent = {}
next_send = 0.0
said_done = False
tcps = [s for proto, s in socks if proto == "tcp"]
# As probe.pl: the first host of each pair sends "kc-probe" until the other's "kc-ack" comes back; "done"
# when its own part is complete, answering the others until "stop" (or stdin closes), or the end.
while told:
    now = time.time()
    if now >= end:
        break
    if not said_done:
        came = all(accepted.get(p, 0) >= n for p, n in accepts.items())
        if (len(looked) >= len(names) or now > start + 2) and len(res) >= len(tcp) and came and (udp is None or (not unacked and heard >= expect)):
            print("done", flush=True)
            said_done = True
    if udp is not None and unacked and now >= next_send:
        for name in [n for n in order if n in unacked and now - last_sent.get(n, 0) >= 0.5][:32]:
            last_sent[name] = now
            try:
                udp.sendto(("kc-probe " + me).encode(), (udp_peers[name], 8472))
            except OSError:
                pass
        next_send = now + 0.01
    wait = min(0.25, max(0.0, end - now))
    if udp is not None and unacked:
        wait = min(wait, max(0.0, next_send - now))
    r = select.select([0] + [s for _, s in socks], [], [], wait)[0]
    if 0 in r and not said().startswith("go"):
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
out += ["tcp %d %s" % (i, res.get(i, "timed out")) for i in range(len(tcp))] if told else []
out += [looked.get(n, "lookup %s timeout" % n) for n in names]
out += ["inbound " + h for h in sorted(heard)] + ["acked " + h for h in sorted(acked)]
print("\n".join(out + ["end"]), flush=True)
