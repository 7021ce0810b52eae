import type { Certificate, CertificateProblem } from '../../src/core/facts.js';
import type { Finding, NodeCheck } from '../../src/core/types.js';
import { combine, error, fail, pass, warn } from '../../src/core/findings.js';

const DAY = 24 * 3600 * 1000;
const isCert = (c: Certificate | CertificateProblem): c is Certificate => 'notAfter' in c;
const isKubeletClient = (path: string) => path.startsWith('/var/lib/kubelet/pki/kubelet-client');

function renewal(path: string, node: string): string {
  if (isKubeletClient(path)) {
    // kubeadm's troubleshooting guide, "Kubelet client certificate rotation fails" (it rotates by itself while valid).
    return [
      `on a control-plane node: kubeadm kubeconfig user --org system:nodes --client-name system:node:${node} > kubelet.conf   # check its server: line`,
      `on ${node}: back up and remove /etc/kubernetes/kubelet.conf and /var/lib/kubelet/pki/kubelet-client*, copy kubelet.conf to /etc/kubernetes/kubelet.conf, restart the kubelet`,
      `once /var/lib/kubelet/pki/kubelet-client-current.pem is back: point kubelet.conf's client-certificate and client-key at it, restart the kubelet`,
      'or re-join the node: kubeadm reset -f && kubeadm join …',
    ].join('\n');
  }
  if (path === '/var/lib/kubelet/pki/kubelet.crt') return 'rm /var/lib/kubelet/pki/kubelet.{crt,key} && systemctl restart kubelet';
  if (/\/ca\.crt$/.test(path)) return 'CA certificates need a CA rotation: https://kubernetes.io/docs/tasks/tls/manual-rotation-of-ca-certificates/';
  return 'kubeadm certs renew all && systemctl restart kubelet   # then restart the static pods (move the manifests out of /etc/kubernetes/manifests and back)';
}

export const certificates: NodeCheck = {
  kind: 'node',
  id: 'node.certificates',
  title: 'Kubernetes certificates are valid and not about to expire',
  area: 'node',
  codes: {
    'expired': 'a Kubernetes certificate expired (control plane, etcd, or the kubelet serving certificate)',
    'kubelet-client-expired': 'the kubelet client certificate expired: the kubelet can no longer authenticate',
    'not-yet-valid': 'a certificate is not valid yet (the host clock is behind)',
    'expiring': 'a certificate expires within warnDays (30)',
  },
  why:
    'kubeadm certificates last one year; when the apiserver, etcd or kubelet client certificate expires, ' +
    'components fail with "x509: certificate has expired or is not yet valid" and nodes go NotReady.',
  remediation: 'kubeadm certs check-expiration; kubeadm certs renew all',
  params: {
    type: 'object',
    properties: { warnDays: { type: 'integer', minimum: 0, description: 'warn when a certificate expires within this many days (default 30)' } },
    additionalProperties: false,
  },
  run(facts, ctx) {
    const warnDays = typeof ctx.params.warnDays === 'number' ? ctx.params.warnDays : 30;
    const now = ctx.now.getTime();
    const certs = facts.certificates;
    const evidence = {
      certificates: certs.map((c) => (isCert(c) ? `${c.path}: notAfter=${c.notAfter} subject=${c.subject}` : `${c.path}: ${c.error}`)).join('\n'),
    };
    if (certs.length === 0) {
      return pass(ctx.phase === 'pre' ? 'no Kubernetes certificates yet (not installed)' : 'no certificates under /etc/kubernetes/pki or /var/lib/kubelet/pki');
    }
    const problems: Finding[] = [];
    for (const c of certs) {
      if (!isCert(c)) {
        problems.push(error(`${c.path}: ${c.error}`, { evidence, code: 'unreadable' }));
        continue;
      }
      const notAfter = Date.parse(c.notAfter);
      const notBefore = Date.parse(c.notBefore);
      const days = Math.floor((notAfter - now) / DAY);
      if (notAfter <= now) {
        problems.push(fail(`${c.path} expired on ${c.notAfter.slice(0, 10)}`, { evidence, remediation: renewal(c.path, ctx.host), code: isKubeletClient(c.path) ? 'kubelet-client-expired' : 'expired' }));
      } else if (notBefore > now) {
        problems.push(fail(`${c.path} is not valid before ${c.notBefore} (clock behind?)`, {
          evidence,
          remediation: 'fix the clock: timedatectl set-ntp true (or chronyc makestep)',
          code: 'not-yet-valid',
        }));
      } else if (notAfter - now <= warnDays * DAY) {
        problems.push(warn(`${c.path} expires in ${days} day${days === 1 ? '' : 's'} (${c.notAfter.slice(0, 10)})`, {
          evidence,
          remediation: renewal(c.path, ctx.host),
          code: 'expiring',
        }));
      }
    }
    const valid = certs.filter(isCert);
    const soonest = valid.reduce<Certificate | undefined>((a, c) => (!a || c.notAfter < a.notAfter ? c : a), undefined);
    return combine(problems, pass(
      `${valid.length} certificate${valid.length === 1 ? '' : 's'} valid${soonest ? `; first to expire: ${soonest.path} on ${soonest.notAfter.slice(0, 10)}` : ''}`,
      { evidence },
    ));
  },
};
