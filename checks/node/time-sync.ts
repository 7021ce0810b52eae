import type { NodeCheck } from '../../src/core/types.js';
import { pass, warn } from '../../src/core/findings.js';
import { TIME_SYNC } from '../../src/profiles/kubeadm-spec.js';

export const timeSync: NodeCheck = {
  kind: 'node',
  id: 'node.time-sync',
  title: 'A time-sync service keeps the clock right',
  area: 'node',
  codes: {
    'no-time-sync': 'no chronyd, ntpd or systemd-timesyncd runs',
    'not-running': 'a time-sync service is enabled at boot but does not run',
  },
  why:
    'Certificates, tokens and etcd\'s leases need clocks that agree: without a time-sync service the skew ' +
    'fleet.clock-skew measures today grows until TLS fails ("certificate is not yet valid") and leases expire early.',
  remediation: 'apt-get install -y chrony && systemctl enable --now chrony   # or: timedatectl set-ntp true',
  run(facts) {
    const proc = facts.processes.find((p) => TIME_SYNC.processes.includes(p.comm));
    const units = TIME_SYNC.units.filter((u) => facts.units[u]?.file);
    const evidence = { processes: facts.processes.map((p) => `${p.pid} ${p.comm}`).join('\n'), units: units.map((u) => `${u}: ${facts.units[u].enabled ? 'enabled' : 'disabled'}`).join('\n') || 'none installed' };
    if (proc) return pass(`${proc.comm === 'systemd-timesyn' ? 'systemd-timesyncd' : proc.comm} runs (pid ${proc.pid})`, { evidence });
    const enabled = units.filter((u) => facts.units[u].enabled);
    if (enabled.length) return warn(`${enabled.join(', ')} ${enabled.length === 1 ? 'is' : 'are'} enabled but not running`, { evidence, code: 'not-running', remediation: `systemctl start ${enabled[0]}` });
    return warn('no time-sync service runs (chronyd, ntpd, systemd-timesyncd)', { evidence, code: 'no-time-sync' });
  },
};
