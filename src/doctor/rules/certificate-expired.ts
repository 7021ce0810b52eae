import type { Rule } from '../evidence.js';
import { linesMatching } from '../evidence.js';

export const certificateExpired: Rule = {
  cause: 'certificate-expired',
  depth: 2,
  match(e) {
    const logs = linesMatching(e, ['x509: certificate has expired or is not yet valid', 'certificate has expired']);
    const certs = e.host?.facts.certificates ?? [];
    const expired = certs.filter((c): c is typeof c & { notAfter: string } => 'notAfter' in c && Date.parse(c.notAfter) <= e.now.getTime());
    if (expired.length) {
      const kubelet = expired.some((c) => c.path.startsWith('/var/lib/kubelet/pki/kubelet-client'));
      const fix = kubelet
        ? ['on a control-plane node: kubeadm kubeconfig user --org system:nodes --client-name system:node:' + e.node + ' > kubelet.conf, copy it to the node as /etc/kubernetes/kubelet.conf, then: systemctl restart kubelet', 'or re-join the node: kubeadm reset -f && kubeadm join …']
        : ['kubeadm certs renew all', 'restart the control-plane static pods (move /etc/kubernetes/manifests/*.yaml out and back), then: systemctl restart kubelet'];
      return { confidence: 'high', summary: `expired certificate${expired.length === 1 ? '' : 's'}: ${expired.map((c) => `${c.path} (${c.notAfter.slice(0, 10)})`).join(', ')}`, evidence: [...expired.map((c) => `${c.path} notAfter=${c.notAfter}`), ...logs], fix };
    }
    if (!e.host && logs.length) return { confidence: 'medium', summary: 'x509: certificate has expired or is not yet valid', evidence: logs, fix: ['kubeadm certs check-expiration', 'kubeadm certs renew all'] };
    return null;
  },
};
