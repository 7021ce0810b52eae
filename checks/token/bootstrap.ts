import type { ClusterCheck, Finding } from '../../src/core/types.js';
import { combine, fail, formatAge, listFailure, pass, warn } from '../../src/core/findings.js';

const CREATE = 'kubeadm token create --print-join-command';

export const bootstrap: ClusterCheck = {
  kind: 'cluster',
  id: 'token.bootstrap',
  title: 'Bootstrap tokens for kubeadm join are valid and signed',
  area: 'token',
  codes: {
    'expired': 'a bootstrap token expired',
    'never-expires': 'a bootstrap token never expires (a standing join credential)',
    'expiring': 'a bootstrap token expires within warnSeconds',
    'unsigned': 'a token has no JWS signature in cluster-info: kubeadm join will not trust the cluster',
    'none-valid': 'no valid bootstrap token',
  },
  why:
    'kubeadm join authenticates with a bootstrap token (24 h by default) and checks the cluster-info ' +
    'ConfigMap\'s JWS signature made with it. An expired token, or one the bootstrapsigner never signed, makes ' +
    'join fail; a token that never expires is a standing credential to join the cluster.',
  remediation: CREATE,
  params: {
    type: 'object',
    properties: {
      joinPlanned: { type: 'boolean', description: 'fail when no valid token exists (a join is about to happen)' },
      warnSeconds: { type: 'integer', minimum: 0, description: 'warn when a token expires within this many seconds (default 7200)' },
    },
    additionalProperties: false,
  },
  run(s, ctx) {
    if (!s.tokens.ok) return listFailure(s.tokens, 'list bootstrap-token secrets in kube-system');
    const now = ctx.now.getTime();
    const warnMs = (typeof ctx.params.warnSeconds === 'number' ? ctx.params.warnSeconds : 7200) * 1000;
    const problems: Finding[] = [];
    const signed = s.clusterInfoSignatures.ok ? new Set(s.clusterInfoSignatures.value) : undefined;
    let valid = 0;
    const evidence = {
      tokens: s.tokens.items.map((t) => `${t.id}: expiration=${t.expiration ?? 'never'} usages=${t.usages.join(',') || '-'}${t.deleting ? ' (being deleted)' : ''}`).join('\n') || 'none',
      'cluster-info signatures': signed ? [...signed].join(', ') || 'none' : s.clusterInfoSignatures.ok ? '' : s.clusterInfoSignatures.detail,
    };
    for (const t of s.tokens.items) {
      const exp = t.expiration ? Date.parse(t.expiration) : undefined;
      if (exp !== undefined && exp <= now) {
        problems.push(fail(`token ${t.id} expired ${formatAge(Math.round((now - exp) / 1000))} ago (${t.expiration})`, { remediation: `kubeadm token delete ${t.id} && ${CREATE}`, code: 'expired' }));
        continue;
      }
      valid++;
      if (exp === undefined) problems.push(warn(`token ${t.id} never expires: a standing credential to join the cluster`, { remediation: `kubeadm token delete ${t.id}   # create short-lived ones when needed: ${CREATE}`, code: 'never-expires' }));
      else if (exp - now <= warnMs) problems.push(warn(`token ${t.id} expires in ${formatAge(Math.round((exp - now) / 1000))}`, { remediation: CREATE, code: 'expiring' }));
      if (signed && t.usages.includes('signing') && !signed.has(t.id)) {
        problems.push(fail(`token ${t.id} has no JWS signature in kube-public/cluster-info: kubeadm join will not trust the cluster (is the bootstrapsigner controller on?)`, {
          remediation: "add bootstrapsigner to the controller-manager's --controllers (kubeadm: --controllers=*,bootstrapsigner,tokencleaner)",
          code: 'unsigned',
        }));
      }
    }
    if (valid === 0) {
      const none = `no valid bootstrap token${s.tokens.items.length ? '' : ' (none exist)'}`;
      problems.push(ctx.params.joinPlanned === true ? fail(`${none}: kubeadm join will fail`, { remediation: CREATE, code: 'none-valid' }) : warn(`${none}: create one before joining a node`, { remediation: CREATE, code: 'none-valid' }));
    }
    return combine(problems.map((p) => ({ ...p, evidence })), pass(`${valid} valid bootstrap token${valid === 1 ? '' : 's'}, all signed in cluster-info`, { evidence }));
  },
};
