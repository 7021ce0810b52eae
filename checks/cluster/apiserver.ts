import type { ClusterCheck, Finding } from '../../src/core/types.js';
import { combine, error, fail, pass, warn } from '../../src/core/findings.js';

const DAY = 86_400_000;

export const apiserver: ClusterCheck = {
  kind: 'cluster',
  id: 'cluster.apiserver',
  title: 'The API server is live and ready, and its serving certificate is valid',
  area: 'cluster',
  codes: {
    'livez-failing': '/livez is not ok',
    'readyz-failing': '/readyz reports failing checks',
    'cert-expired': 'the serving certificate expired',
    'cert-expiring': 'the serving certificate expires within warnDays',
  },
  why:
    'Everything goes through the API server. /livez and /readyz?verbose name the internal checks that fail ' +
    '(etcd, informers, admission, post-start hooks); an expired serving certificate breaks every client.',
  remediation: 'crictl ps -a --name kube-apiserver; crictl logs $(crictl ps -a -q --name kube-apiserver | head -1) | tail -50',
  params: {
    type: 'object',
    properties: { warnDays: { type: 'integer', minimum: 0, description: 'warn when the serving certificate expires within this many days (default 30)' } },
    additionalProperties: false,
  },
  run(s, ctx) {
    if (!s.livez.ok && !s.readyz.ok && !s.version.ok) return error(`the API server did not answer: ${s.version.detail}`, { code: 'unreached' });
    const problems: Finding[] = [];
    const evidence: Record<string, string> = {};
    if (s.livez.ok) {
      evidence['/livez'] = s.livez.value.body.slice(0, 2000);
      if (!s.livez.value.ok) problems.push(fail(`/livez is not ok: ${s.livez.value.body.split('\n').filter((l) => l.startsWith('[-]')).join(', ') || s.livez.value.body.slice(0, 200)}`, { code: 'livez-failing' }));
    } else problems.push(error(`/livez: ${s.livez.detail}`));
    if (s.readyz.ok) {
      evidence['/readyz?verbose'] = s.readyz.value.body.slice(0, 4000);
      if (!s.readyz.value.ok) problems.push(fail(`/readyz fails: ${s.readyz.value.failing.join(', ') || 'not ready'}`, { code: 'readyz-failing' }));
    } else problems.push(error(`/readyz: ${s.readyz.detail}`));
    const warnDays = typeof ctx.params.warnDays === 'number' ? ctx.params.warnDays : 30;
    if (s.servingCert.ok) {
      const left = Date.parse(s.servingCert.value.notAfter) - ctx.now.getTime();
      evidence['serving certificate'] = `${s.servingCert.value.subject}, notAfter ${s.servingCert.value.notAfter}`;
      const renew = 'kubeadm certs renew apiserver && crictl stop $(crictl ps -q --name kube-apiserver)';
      if (left <= 0) problems.push(fail(`the serving certificate expired on ${s.servingCert.value.notAfter.slice(0, 10)}`, { remediation: renew, code: 'cert-expired' }));
      else if (left < warnDays * DAY) problems.push(warn(`the serving certificate expires in ${Math.floor(left / DAY)} days (${s.servingCert.value.notAfter.slice(0, 10)})`, { remediation: renew, code: 'cert-expiring' }));
    }
    const version = s.version.ok ? s.version.value.gitVersion : 'version unknown';
    const checks = s.readyz.ok ? s.readyz.value.checks.length : 0;
    return combine(problems.map((p) => ({ ...p, evidence })), pass(
      `${version}; /livez ok; /readyz ok (${checks} checks)${s.servingCert.ok ? `; serving certificate valid until ${s.servingCert.value.notAfter.slice(0, 10)}` : ''}`,
      { evidence },
    ));
  },
};
