import type { ClusterCheck, Finding } from '../../src/core/types.js';
import { ageSeconds, combine, fail, formatAge, listFailure, pass, warn } from '../../src/core/findings.js';

const PRESSURE = ['MemoryPressure', 'DiskPressure', 'PIDPressure', 'NetworkUnavailable'];
/** What relieves each pressure condition (run on the node). */
const RELIEF: Record<string, string> = {
  DiskPressure: 'df -h /var/lib/kubelet /var/lib/containerd\ncrictl rmi --prune   # unused images\njournalctl --vacuum-size=500M',
  MemoryPressure: 'free -m; ps aux --sort=-rss | head\nkubectl top pods -A --sort-by=memory   # with metrics-server\nset memory limits on the pods that grow',
  PIDPressure: 'ps -eLf | wc -l; find the pod whose processes multiply and set its pids limit',
};
const minor = (v: string) => Number(/^v?\d+\.(\d+)/.exec(v)?.[1] ?? NaN);

export const nodes: ClusterCheck = {
  kind: 'cluster',
  id: 'cluster.nodes',
  title: 'Every node is Ready, without pressure, renewing its lease, on a supported kubelet version',
  area: 'cluster',
  codes: {
    'no-nodes': 'the cluster has no nodes',
    'not-ready': 'Ready=False: the kubelet reports the node not ready (the message says why)',
    'status-unknown': 'Ready=Unknown: the kubelet stopped posting node status',
    'memory-pressure': 'MemoryPressure=True',
    'disk-pressure': 'DiskPressure=True',
    'pid-pressure': 'PIDPressure=True',
    'network-unavailable': 'NetworkUnavailable=True: the node network is not set up',
    'no-lease': 'no node lease in kube-node-lease',
    'lease-stale': 'the node lease is not renewed: the kubelet heartbeat stopped',
    'kubelet-too-new': 'the kubelet is newer than the API server',
    'kubelet-too-old': 'the kubelet is more than 3 minor versions behind the API server',
    'cordoned': 'the node is cordoned (unschedulable)',
  },
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
    if (s.nodes.items.length === 0) return fail('the cluster has no nodes', { code: 'no-nodes' });
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
        problems.push(fail(`Ready=${ready?.status ?? 'missing'}${ready?.reason ? ` (${ready.reason})` : ''}${since}${ready?.message ? `: ${ready.message}` : ''}`, { code: ready?.status === 'Unknown' ? 'status-unknown' : 'not-ready' }));
      }
      for (const c of node.conditions.filter((x) => PRESSURE.includes(x.type) && x.status === 'True')) {
        problems.push(fail(`${c.type}${c.message ? `: ${c.message}` : ''}`, { code: c.type.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase(), ...(RELIEF[c.type] ? { remediation: RELIEF[c.type] } : {}) }));
      }
      if (leases) {
        const lease = leases.get(node.name);
        const age = ageSeconds(lease?.renewTime, ctx.now);
        const limit = typeof ctx.params.maxLeaseAgeSeconds === 'number' ? ctx.params.maxLeaseAgeSeconds : lease?.durationSeconds ?? 40;
        evidence.lease = lease ? `renewTime=${lease.renewTime ?? '-'} leaseDurationSeconds=${lease.durationSeconds ?? '-'}` : 'no lease in kube-node-lease';
        if (!lease) problems.push(fail('no node lease in kube-node-lease (the kubelet never registered its heartbeat)', { code: 'no-lease' }));
        else if (age !== undefined && age > limit) problems.push(fail(`node lease not renewed for ${formatAge(age)} (limit ${limit} s): the kubelet stopped posting its heartbeat`, { code: 'lease-stale' }));
      } else if (!s.nodeLeases.ok) {
        problems.push(listFailure(s.nodeLeases, 'list leases in kube-node-lease'));
      }
      const kMinor = minor(node.kubeletVersion);
      if (Number.isFinite(apiMinor) && Number.isFinite(kMinor)) {
        evidence.versions = `kubelet ${node.kubeletVersion}, apiserver ${s.version.ok ? s.version.value.gitVersion : '?'}`;
        if (kMinor > apiMinor) problems.push(fail(`kubelet ${node.kubeletVersion} is newer than the API server (${s.version.ok ? s.version.value.gitVersion : ''}): upgrade the control plane first`, { code: 'kubelet-too-new' }));
        else if (apiMinor - kMinor > 3) problems.push(fail(`kubelet ${node.kubeletVersion} is ${apiMinor - kMinor} minor versions behind the API server (at most 3 are supported)`, { code: 'kubelet-too-old' }));
      }
      if (node.unschedulable) problems.push(warn('cordoned (unschedulable)', { remediation: `kubectl uncordon ${node.name}`, code: 'cordoned' }));
      out.set(node.name, combine(problems.map((p) => ({ ...p, evidence })), pass(`Ready, lease fresh, kubelet ${node.kubeletVersion}`, { evidence })));
    }
    return out;
  },
};

