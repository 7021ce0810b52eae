import type { ClusterCheck } from '../../src/core/types.js';
import { fail, listFailure, pass } from '../../src/core/findings.js';
import { podProblems } from './pods.js';
import { notADaemonSet } from './runs-as.js';

export const kubeProxy: ClusterCheck = {
  kind: 'cluster',
  id: 'cluster.kube-proxy',
  title: 'kube-proxy runs and is ready on every node',
  area: 'cluster',
  codes: {
    'missing': 'no kube-proxy DaemonSet',
    'not-ready': 'kube-proxy is not ready on every node',
  },
  why: 'kube-proxy programs Service virtual IPs on each node: where it is missing or crashing, Services (and DNS) do not answer from that node.',
  remediation: 'kubectl -n kube-system get ds kube-proxy; kubectl -n kube-system logs -l k8s-app=kube-proxy --tail 50',
  run(s, ctx) {
    const elsewhere = notADaemonSet(s, 'kubeProxy');
    if (elsewhere) return elsewhere;
    if (!s.daemonSets.ok) return listFailure(s.daemonSets, 'list daemonsets in kube-system');
    const ds = s.daemonSets.items.find((d) => d.namespace === 'kube-system' && (d.name === 'kube-proxy' || d.labels['k8s-app'] === 'kube-proxy'));
    if (!ds) return fail('no kube-proxy DaemonSet in kube-system (if a CNI replaces kube-proxy, skip this check)', { code: 'missing' });
    const evidence = { daemonset: `desired=${ds.desired} ready=${ds.ready} available=${ds.available} updated=${ds.updated} images=${ds.images.join(',')}` };
    const pods = s.systemPods.ok ? s.systemPods.items.filter((p) => p.namespace === 'kube-system' && (p.labels['k8s-app'] === 'kube-proxy' || p.owner?.name === ds.name)) : [];
    const problems = pods.flatMap((p) => podProblems(p, ctx.now)).filter((p) => p.severity === 'fail');
    if (ds.ready < ds.desired || problems.length) {
      return fail(`kube-proxy ready on ${ds.ready} of ${ds.desired} nodes${problems.length ? `: ${problems.slice(0, 5).map((p) => p.text).join('; ')}` : ''}`, { evidence, code: 'not-ready' });
    }
    return pass(`kube-proxy ready on ${ds.ready} of ${ds.desired} nodes`, { evidence });
  },
};
