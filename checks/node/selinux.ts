import type { NodeCheck } from '../../src/core/types.js';
import { pass, warn } from '../../src/core/findings.js';

export const selinux: NodeCheck = {
  kind: 'node',
  id: 'node.selinux',
  title: 'SELinux is not enforcing',
  area: 'node',
  codes: {
    'enforcing': 'SELinux is enforcing',
  },
  why:
    'With SELinux enforcing, containers that mount host paths (flannel, kube-proxy, static pods) are denied ' +
    'access unless the right policy is in place; the kubeadm guide sets it to permissive.',
  remediation: "setenforce 0 && sed -i 's/^SELINUX=enforcing$/SELINUX=permissive/' /etc/selinux/config",
  run(facts) {
    const evidence = { selinux: facts.raw.selinux ?? '' };
    if (facts.selinux === 'enforcing') return warn('SELinux is enforcing', { evidence, code: 'enforcing' });
    return pass(`SELinux is ${facts.selinux}`, { evidence });
  },
};
