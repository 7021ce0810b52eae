import type { ClusterCheck } from '../../src/core/types.js';
import { fail, listFailure, pass } from '../../src/core/findings.js';
import { podProblems } from './pods.js';

export const coredns: ClusterCheck = {
  kind: 'cluster',
  id: 'cluster.coredns',
  title: 'CoreDNS is available',
  area: 'cluster',
  codes: {
    'missing': 'no CoreDNS Deployment',
    'not-ready': 'CoreDNS has fewer ready replicas than wanted',
  },
  why: 'Every in-cluster name lookup goes to CoreDNS; with no ready replica, Services are unreachable by name. CoreDNS stays Pending until the CNI works.',
  remediation: 'kubectl -n kube-system get deploy coredns; kubectl -n kube-system describe pods -l k8s-app=kube-dns',
  run(s, ctx) {
    if (!s.deployments.ok) return listFailure(s.deployments, 'list deployments in kube-system');
    const dep = s.deployments.items.find((d) => d.name === 'coredns' || d.labels['k8s-app'] === 'kube-dns');
    if (!dep) return fail('no CoreDNS Deployment in kube-system (labelled k8s-app=kube-dns)', { code: 'missing' });
    const evidence = { deployment: `replicas=${dep.desired} ready=${dep.ready} available=${dep.available} images=${dep.images.join(',')}` };
    const pods = s.systemPods.ok ? s.systemPods.items.filter((p) => p.namespace === 'kube-system' && p.labels['k8s-app'] === 'kube-dns') : [];
    const problems = pods.flatMap((p) => podProblems(p, ctx.now, { pendingSeconds: 120 })).filter((p) => p.severity === 'fail');
    if (dep.ready === 0 || dep.ready < dep.desired || problems.length) {
      return fail(`CoreDNS ready ${dep.ready}/${dep.desired}${problems.length ? `: ${problems.slice(0, 5).map((p) => p.text).join('; ')}` : ''}`, { evidence, code: 'not-ready' });
    }
    return pass(`CoreDNS ready ${dep.ready}/${dep.desired}`, { evidence });
  },
};
