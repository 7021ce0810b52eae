import type { ClusterCheck } from '../../src/core/types.js';
import { error, fail, pass, skip } from '../../src/core/findings.js';

export const etcd: ClusterCheck = {
  kind: 'cluster',
  id: 'cluster.etcd',
  title: 'etcd answers the API server',
  area: 'cluster',
  codes: {
    'failing': "the API server's etcd checks fail",
    'no-etcd-check': 'the API server reports no etcd check',
  },
  why:
    'The API server keeps all state in etcd; when etcd is down, slow or out of quorum the API server stops ' +
    'being ready and writes fail. Its view is the /readyz etcd checks.',
  remediation: 'crictl ps -a --name etcd; ETCDCTL_API=3 etcdctl --endpoints https://127.0.0.1:2379 --cacert /etc/kubernetes/pki/etcd/ca.crt --cert /etc/kubernetes/pki/etcd/healthcheck-client.crt --key /etc/kubernetes/pki/etcd/healthcheck-client.key endpoint health',
  run(s) {
    if (!s.readyz.ok) return error(`cannot read /readyz?verbose: ${s.readyz.detail}`, { code: 'unreadable' });
    const etcdChecks = s.readyz.value.checks.filter((c) => c.startsWith('etcd'));
    if (etcdChecks.length === 0) return skip('the API server reports no etcd check (external storage?)', { code: 'no-etcd-check' });
    const failing = s.readyz.value.failing.filter((c) => c.startsWith('etcd'));
    const evidence = { '/readyz?verbose': s.readyz.value.body.split('\n').filter((l) => l.includes('etcd')).join('\n') };
    if (failing.length) return fail(`the API server's etcd checks fail: ${failing.join(', ')}`, { evidence, code: 'failing' });
    return pass(`etcd healthy as the API server sees it (${etcdChecks.join(', ')})`, { evidence });
  },
};
