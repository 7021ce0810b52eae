import type { NodeCheck } from '../../src/core/types.js';
import { combine, fail, pass, skip, warn } from '../../src/core/findings.js';
import { PROFILES, profileNamed } from '../../src/profiles/profiles.js';
import { restartCommand } from './restart.js';

export const services: NodeCheck = {
  kind: 'node',
  id: 'node.services',
  title: 'The install\'s host services run, and start at boot',
  area: 'node',
  codes: {
    'not-running': 'a host service of this install (kube-proxy, flanneld, a control-plane component, k3s…) is not running',
    'not-enabled': 'a host service runs but is not enabled at boot: it will not come back after a reboot',
    'pre-install': 'pre-install: the install\'s services do not run yet',
  },
  why:
    'A binary install runs every component as a systemd unit (kube-apiserver, kube-controller-manager, ' +
    'kube-scheduler and etcd on the control plane, kube-proxy and flanneld on every node); k3s runs as the ' +
    'k3s or k3s-agent unit. A unit that stopped takes its part of the cluster with it (no Service routing ' +
    'without kube-proxy, no pod network without flanneld); one not enabled is gone after the next reboot.',
  remediation: 'systemctl enable --now UNIT; journalctl -u UNIT -n 50 --no-pager',
  run(facts, ctx) {
    const profile = profileNamed(facts.profile.name) ?? PROFILES.kubeadm;
    const wanted = profile.services.filter((s) => s.roles.some((r) => ctx.roles.includes(r)));
    if (wanted.length === 0) {
      return skip(`a ${profile.name} install runs no host services besides the kubelet and the runtime (node.kubelet, node.runtime judge those)`, { code: 'not-applicable' });
    }
    if (ctx.phase === 'pre') return skip('pre-install: the install\'s services start with the install', { code: 'pre-install' });
    const systemd = facts.init === 'systemd';
    const evidence = {
      units: wanted.map((s) => {
        const u = facts.units[s.unit];
        const proc = facts.processes.find((p) => s.process.includes(p.comm));
        return `${s.unit}: ${systemd ? `systemctl is-active: ${facts.services[s.unit] ?? 'unknown'}` : proc ? `process ${proc.comm} (pid ${proc.pid})` : 'no process'}; unit file ${u?.file ?? 'none'}${u?.enabled ? ', enabled' : ''}`;
      }).join('\n'),
    };
    // A service that holds ports (the control plane, k3s) is judged running by node.ports: only its boot setting here.
    const byPorts = (s: (typeof wanted)[number]) => profile.ports.some((c) => c.owners.some((o) => s.process.includes(o)));
    const problems = wanted.flatMap((s) => {
      const running = systemd ? facts.services[s.unit] === 'active' : facts.processes.some((p) => s.process.includes(p.comm));
      const unit = facts.units[s.unit];
      if (!running && !byPorts(s)) {
        const journal = systemd ? `journalctl -u ${s.unit} -n 50 --no-pager` : `the log of ${s.unit}`;
        return [fail(`${s.unit} is not running${unit?.file ? '' : ' (and has no unit file)'}`, { evidence, remediation: `${restartCommand(facts, s.unit)}   # if it stops again: ${journal}`, code: 'not-running' })];
      }
      if (unit?.file && !unit.enabled) return [warn(`${s.unit} runs but is not enabled at boot`, { evidence, remediation: `systemctl enable ${s.unit}`, code: 'not-enabled' })];
      return [];
    });
    return combine(problems, pass(`${wanted.map((s) => s.unit).join(', ')} running${wanted.every((s) => facts.units[s.unit]?.enabled) ? ' and enabled at boot' : ''}`, { evidence }));
  },
};
