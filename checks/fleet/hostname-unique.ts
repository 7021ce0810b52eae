import type { FleetCheck, Finding } from '../../src/core/types.js';
import { error, fail, pass } from '../../src/core/findings.js';
import { hostsByValue, othersWith, someHosts } from './group.js';

export const hostnameUnique: FleetCheck = {
  kind: 'fleet',
  id: 'fleet.hostname-unique',
  title: 'Every host has its own hostname',
  area: 'fleet',
  codes: {
    'duplicate': 'another host has the same hostname',
  },
  why:
    'The node name defaults to the hostname: a second host with the same name takes over the first one\'s ' +
    'Node object when it joins, and both flap between Ready and NotReady.',
  remediation: 'hostnamectl set-hostname NEW-NAME (and update /etc/hosts), or join with kubeadm --node-name',
  run(members) {
    const name = (h: string) => h.toLowerCase();
    const groups = hostsByValue(members, (m) => (m.facts.hostname ? [name(m.facts.hostname)] : []));
    const out = new Map<string, Finding>();
    for (const m of members) {
      if (!m.facts.hostname) {
        out.set(m.host, error('the host did not report a hostname', { code: 'unreadable' }));
        continue;
      }
      const others = othersWith(groups, name(m.facts.hostname), m.host);
      out.set(m.host, others.length
        ? fail(`hostname '${m.facts.hostname}' is also the hostname of ${someHosts(others)}`, { evidence: { hostname: m.facts.hostname }, code: 'duplicate' })
        : pass(`hostname '${m.facts.hostname}' is unique`));
    }
    return out;
  },
};
