import type { FleetCheck, Finding } from '../../src/core/types.js';
import { error, fail, pass, skip } from '../../src/core/findings.js';

export const reachability: FleetCheck = {
  kind: 'fleet',
  id: 'fleet.reachability',
  title: 'Hosts reach each other on the ports the cluster needs',
  area: 'fleet',
  probes: ['reachability'],
  codes: {
    'blocked': 'a path the cluster needs (API server 6443, kubelet 10250, etcd 2379-2380, flannel VXLAN 8472/udp) is blocked between two hosts',
  },
  why:
    'kubeadm checks one host at a time and cannot see a firewall between two of them: a worker that cannot ' +
    'reach 6443 fails `kubeadm join` at discovery, a control plane that cannot reach a kubelet\'s 10250 gives ' +
    '"kubectl logs/exec" timeouts, and dropped VXLAN datagrams leave pods on different nodes unable to talk ' +
    'while every node reports Ready. Each path is tried from the source host itself, to the address the ' +
    'cluster will use, with a listener of the probe\'s own where nothing listens yet.',
  remediation:
    'Open the path on the target (and any firewall between): firewall-cmd --permanent --add-port=6443/tcp ' +
    '(10250/tcp, 2379-2380/tcp, 8472/udp) && firewall-cmd --reload; or ufw allow …; or remove the iptables ' +
    'rule that drops it (iptables -S INPUT).',
  run(members, ctx) {
    // A note about one host starts with its name ("h1: …", "h1 has …"): h1's are not h10's.
    const about = (note: string, host: string) => note.startsWith(`${host}:`) || note.startsWith(`${host} `);
    const out = new Map<string, Finding>();
    const probe = ctx.probes?.reachability;
    for (const m of members) {
      if (!probe) { out.set(m.host, skip('the hosts were not made to talk to each other in this run')); continue; }
      if (probe.skipped) { out.set(m.host, skip(probe.skipped)); continue; }
      const mine = probe.paths.filter((p) => p.from === m.host);
      const notes = probe.notes.filter((n) => about(n, m.host) || !members.some((o) => about(n, o.host)));
      const evidence: Record<string, string> = {
        paths: mine.map((p) => `${p.to} ${p.address}:${p.port}/${p.proto} (${p.why}): ${p.ok ? 'ok' : 'BLOCKED'} — ${p.detail}`).join('\n') || 'none from this host',
        ...(notes.length ? { notes: notes.join('\n') } : {}),
      };
      const blocked = mine.filter((p) => !p.ok);
      const why = probe.notProbed?.[m.host];
      if (blocked.length) {
        out.set(m.host, fail(blocked.map((p) => `${m.host} → ${p.to} ${p.address}:${p.port}/${p.proto} (${p.why}): ${p.detail}`).join('; '), { evidence, code: 'blocked' }));
      } else if (why) {
        // Not tried is not reachable: say so rather than pass on what was not tried.
        out.set(m.host, error(`the paths from this host were not tried: ${why}`, { evidence, code: 'error' }));
      } else if (!mine.length) {
        out.set(m.host, pass('no path the cluster needs starts at this host', { evidence }));
      } else {
        out.set(m.host, pass(`reaches ${mine.map((p) => `${p.to}:${p.port}/${p.proto}`).join(', ')}`, { evidence }));
      }
    }
    return out;
  },
};
