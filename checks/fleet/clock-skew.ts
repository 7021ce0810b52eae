import type { FleetCheck, Finding } from '../../src/core/types.js';
import { error, fail, pass } from '../../src/core/findings.js';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

const seconds = (ms: number) => `${(Math.abs(ms) / 1000).toFixed(1)} s`;

export const clockSkew: FleetCheck = {
  kind: 'fleet',
  id: 'fleet.clock-skew',
  title: 'Host clocks agree',
  area: 'fleet',
  codes: {
    'skewed': 'the host clock is further from the fleet median than the limit (2 s)',
  },
  why:
    'Certificates, tokens, leases and etcd elections all depend on time; a host whose clock is off by more ' +
    'than a couple of seconds sees valid certificates as "not yet valid" and its node lease as stale.',
  remediation: 'timedatectl set-ntp true   # or: apt-get install -y chrony && chronyc makestep',
  params: {
    type: 'object',
    properties: { maxSkewMs: { type: 'integer', minimum: 1, description: 'largest allowed offset (default 2000 ms)' } },
    additionalProperties: false,
  },
  run(members, ctx) {
    const limit = typeof ctx.params.maxSkewMs === 'number' ? ctx.params.maxSkewMs : 2000;
    const timed = members.filter((m) => m.facts.clock !== null);
    const out = new Map<string, Finding>();
    for (const m of members) if (!m.facts.clock) out.set(m.host, error('the host did not report its clock (date +%s.%N)', { code: 'unreadable' }));
    if (timed.length === 0) return out;
    // Offsets are measured against this client with round-trip compensation; hosts are compared with the
    // median of the fleet so that a wrong client clock does not fail everyone. With two hosts, with each other.
    // The median once for the run (not per host: on thousands of hosts that was a sort per host).
    const fleetMedian = median(timed.map((m) => m.facts.clock!.offsetMs));
    const others = timed.length - 1;
    for (const m of timed) {
      const clock = m.facts.clock!;
      const other = others === 1 ? timed.find((o) => o !== m)! : undefined;
      const reference = others === 0 ? 0 : other ? other.facts.clock!.offsetMs : fleetMedian;
      const diff = clock.offsetMs - reference;
      const uncertainty = Math.round(clock.rttMs / 2);
      const evidence = { clock: `offset from this client ${clock.offsetMs} ms (±${uncertainty} ms), fleet reference ${Math.round(reference)} ms` };
      if (Math.abs(diff) - uncertainty > limit) {
        const peers = others === 0 ? 'this client' : other ? other.host : 'the other hosts';
        out.set(m.host, fail(`clock is ${seconds(diff)} ${diff > 0 ? 'ahead of' : 'behind'} ${peers} (limit ${seconds(limit)})`, { evidence, code: 'skewed' }));
      } else {
        out.set(m.host, pass(`clock within ${seconds(diff)} of ${others ? 'the fleet' : 'this client'}`, { evidence }));
      }
    }
    return out;
  },
};
