import type { ClusterCheck, Finding } from '../../src/core/types.js';
import { ageSeconds, combine, fail, formatAge, listFailure, pass, warn } from '../../src/core/findings.js';

const PRESSURE = ['MemoryPressure', 'DiskPressure', 'PIDPressure', 'NetworkUnavailable'];
const minor = (v: string) => Number(/^v?\d+\.(\d+)/.exec(v)?.[1] ?? NaN);

export const nodes: ClusterCheck = {
  kind: 'cluster',
  id: 'cluster.nodes',
  title: 'Every node is Ready, without pressure, renewing its lease, on a supported kubelet version',
  area: 'cluster',
  why:
    'A node that is not Ready gets no new pods and loses its pods after the eviction timeout. Its lease in ' +
    'kube-node-lease is the kubelet\'s heartbeat; a kubelet newer than the API server, or more than three ' +
    'minor versions older, is not supported.',
  remediation: 'kubecheck doctor NODE   # names the cause on the node itself',
  params: {
    type: 'object',
    properties: { maxLeaseAgeSeconds: { type: 'integer', minimum: 1, description: 'a node lease older than this is stale (default: its lease duration, 40 s)' } },
    additionalProperties: false,
  },
  run(s, ctx) {
    if (!s.nodes.ok) return listFailure(s.nodes, 'list nodes');
    const out = new Map<string, Finding>();
    if (s.nodes.items.length === 0) return fail('the cluster has no nodes');
    const leases = s.nodeLeases.ok ? new Map(s.nodeLeases.items.map((l) => [l.name, l])) : undefined;
    const apiMinor = s.version.ok ? minor(s.version.value.gitVersion) : NaN;
    for (const node of s.nodes.items) {
      const problems: Finding[] = [];
      const ready = node.conditions.find((c) => c.type === 'Ready');
      const evidence: Record<string, string> = {
        conditions: node.conditions.map((c) => `${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ''}${c.message ? `: ${c.message}` : ''} since ${c.lastTransitionTime ?? '?'}`).join('\n'),
      };
      if (!ready || ready.status !== 'True') {
        const since = ready?.lastTransitionTime ? ` since ${ready.lastTransitionTime}` : '';
        problems.push(fail(`Ready=${ready?.status ?? 'missing'}${ready?.reason ? ` (${ready.reason})` : ''}${since}${ready?.message ? `: ${ready.message}` : ''}`));
      }
      for (const c of node.conditions.filter((x) => PRESSURE.includes(x.type) && x.status === 'True')) {
        problems.push(fail(`${c.type}${c.message ? `: ${c.message}` : ''}`));
      }
      if (leases) {
        const lease = leases.get(node.name);
        const age = ageSeconds(lease?.renewTime, ctx.now);
        const limit = typeof ctx.params.maxLeaseAgeSeconds === 'number' ? ctx.params.maxLeaseAgeSeconds : lease?.durationSeconds ?? 40;
        evidence.lease = lease ? `renewTime=${lease.renewTime ?? '-'} leaseDurationSeconds=${lease.durationSeconds ?? '-'}` : 'no lease in kube-node-lease';
        if (!lease) problems.push(fail('no node lease in kube-node-lease (the kubelet never registered its heartbeat)'));
        else if (age !== undefined && age > limit) problems.push(fail(`node lease not renewed for ${formatAge(age)} (limit ${limit} s): the kubelet stopped posting its heartbeat`));
      } else if (!s.nodeLeases.ok) {
        problems.push(listFailure(s.nodeLeases, 'list leases in kube-node-lease'));
      }
      const kMinor = minor(node.kubeletVersion);
      if (Number.isFinite(apiMinor) && Number.isFinite(kMinor)) {
        evidence.versions = `kubelet ${node.kubeletVersion}, apiserver ${s.version.ok ? s.version.value.gitVersion : '?'}`;
        if (kMinor > apiMinor) problems.push(fail(`kubelet ${node.kubeletVersion} is newer than the API server (${s.version.ok ? s.version.value.gitVersion : ''}): upgrade the control plane first`));
        else if (apiMinor - kMinor > 3) problems.push(fail(`kubelet ${node.kubeletVersion} is ${apiMinor - kMinor} minor versions behind the API server (at most 3 are supported)`));
      }
      if (node.unschedulable) problems.push(warn('cordoned (unschedulable)', { remediation: `kubectl uncordon ${node.name}` }));
      out.set(node.name, combine(problems.map((p) => ({ ...p, evidence })), pass(`Ready, lease fresh, kubelet ${node.kubeletVersion}`, { evidence })));
    }
    return out;
  },
};

