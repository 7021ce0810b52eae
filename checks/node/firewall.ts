import type { NodeCheck } from '../../src/core/types.js';
import { pass, warn } from '../../src/core/findings.js';

export const firewall: NodeCheck = {
  kind: 'node',
  id: 'node.firewall',
  title: 'firewalld is not in the way',
  area: 'node',
  codes: {
    'firewalld-active': 'firewalld runs: it blocks the cluster ports unless they are opened',
  },
  why:
    'An active firewalld blocks the ports Kubernetes and flannel need (6443, 10250, 2379-2380, 8472/udp, ' +
    'NodePorts) unless they are opened, and its reloads can flush the rules kube-proxy and flannel add.',
  remediation:
    'firewall-cmd --permanent --add-port={6443,2379-2380,10250,10257,10259,30000-32767}/tcp --add-port=8472/udp && firewall-cmd --reload' +
    '   # or: systemctl disable --now firewalld',
  run(facts) {
    const proc = facts.processes.find((p) => p.comm === 'firewalld');
    const unit = facts.services.firewalld;
    if (unit === 'active' || proc) {
      return warn(`firewalld is active${proc ? ` (pid ${proc.pid})` : ''}: open the Kubernetes and flannel ports or disable it`, {
        evidence: { firewalld: unit ? `systemctl is-active firewalld: ${unit}` : `process ${proc?.pid} firewalld` },
        code: 'firewalld-active',
      });
    }
    return pass('firewalld is not running');
  },
};
