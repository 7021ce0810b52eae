import type { ClusterCheck } from '../../src/core/types.js';
import { fail, listFailure, pass, warn } from '../../src/core/findings.js';
import { SYSTEM_NAMESPACES } from '../../src/k8s/snapshot.js';
import { podProblems } from './pods.js';

export const systemPods: ClusterCheck = {
  kind: 'cluster',
  id: 'cluster.system-pods',
  title: 'System pods run: none crash-looping, stuck Pending or restarting often',
  area: 'cluster',
  codes: {
    'failing': 'a system pod is crash-looping, stuck Pending or failing',
    'restarting': 'a system pod restarts often',
  },
  why:
    'The pods in kube-system and kube-flannel (DNS, proxy, CNI, static control-plane pods, add-ons) carry ' +
    'the cluster; one crash-looping or stuck Pending is usually the first visible symptom of a broken node, ' +
    'image registry or configuration.',
  remediation: 'kubectl -n NAMESPACE describe pod POD; kubectl -n NAMESPACE logs POD --previous',
  params: {
    type: 'object',
    properties: {
      pendingSeconds: { type: 'integer', minimum: 0, description: 'Pending longer than this fails (default 300)' },
      maxRestarts: { type: 'integer', minimum: 0, description: 'more restarts than this warns (default 5)' },
    },
    additionalProperties: false,
  },
  run(s, ctx) {
    if (!s.systemPods.ok) return listFailure(s.systemPods, `list pods in ${SYSTEM_NAMESPACES.join(' and ')}`);
    const opts = {
      ...(typeof ctx.params.pendingSeconds === 'number' ? { pendingSeconds: ctx.params.pendingSeconds } : {}),
      ...(typeof ctx.params.maxRestarts === 'number' ? { maxRestarts: ctx.params.maxRestarts } : {}),
    };
    const problems = s.systemPods.items.flatMap((p) => podProblems(p, ctx.now, opts));
    const failing = problems.filter((p) => p.severity === 'fail');
    const shown = (xs: typeof problems) => xs.slice(0, 10).map((p) => p.text).join('; ') + (xs.length > 10 ? `; and ${xs.length - 10} more` : '');
    const evidence = { problems: problems.map((p) => p.text).join('\n') };
    if (failing.length) return fail(`${failing.length} system pod problem${failing.length === 1 ? '' : 's'}: ${shown(failing)}`, { evidence, code: 'failing' });
    if (problems.length) return warn(shown(problems), { evidence, code: 'restarting' });
    return pass(`${s.systemPods.items.length} system pods healthy`);
  },
};
