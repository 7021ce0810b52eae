import type { Finding, NodeCheck } from '../../src/core/types.js';
import { combine, fail, pass, unreadable, warn } from '../../src/core/findings.js';

const gib = (kib: number) => `${(kib / 1024 / 1024).toFixed(1)} GiB`;

export const disk: NodeCheck = {
  kind: 'node',
  id: 'node.disk',
  title: 'Enough free space where images, pods and etcd live',
  area: 'node',
  codes: {
    'low-space': 'too little free space under the runtime, kubelet or etcd folders: the node starts in DiskPressure',
    'little-space': 'free space is below the kubelet\'s image eviction threshold (15%) or the warning level',
  },
  why:
    'The kubelet evicts pods and refuses new ones when its filesystem has less than 10% free (nodefs) or the ' +
    'image filesystem less than 15% (imagefs); the control-plane images alone take about 1 GB, and etcd stops writing on a full disk.',
  remediation: 'free space or give /var/lib/containerd, /var/lib/kubelet and /var/lib/etcd a larger filesystem; crictl rmi --prune removes unused images',
  params: {
    type: 'object',
    properties: {
      minFreeGiB: { type: 'number', minimum: 0, description: 'fail below this much free space (default 2)' },
      warnFreeGiB: { type: 'number', minimum: 0, description: 'warn below this much free space (default 5)' },
    },
    additionalProperties: false,
  },
  run(facts, ctx) {
    if (!facts.disk.ok) return unreadable(facts.disk, 'the free space (df)');
    const minFree = (typeof ctx.params.minFreeGiB === 'number' ? ctx.params.minFreeGiB : 2) * 1024 * 1024;
    const warnFree = (typeof ctx.params.warnFreeGiB === 'number' ? ctx.params.warnFreeGiB : 5) * 1024 * 1024;
    const byMount = new Map<string, { paths: string[]; size: number; avail: number }>();
    for (const d of facts.disk.value) {
      const m = byMount.get(d.mount) ?? { paths: [], size: d.sizeKiB, avail: d.availableKiB };
      m.paths.push(d.path);
      byMount.set(d.mount, m);
    }
    const evidence = { df: [...byMount].map(([mount, m]) => `${mount}: ${gib(m.avail)} free of ${gib(m.size)} (${m.paths.join(', ')})`).join('\n') };
    const problems: Finding[] = [];
    for (const [mount, m] of byMount) {
      const share = m.size ? m.avail / m.size : 0;
      const where = `${m.paths.join(', ')} (on ${mount})`;
      if (m.avail < minFree || share < 0.1) problems.push(fail(`${gib(m.avail)} free (${Math.round(share * 100)}%) for ${where}: below ${share < 0.1 ? 'the kubelet\'s 10% eviction threshold' : `${gib(minFree)}`}`, { evidence, code: 'low-space' }));
      else if (m.avail < warnFree || share < 0.15) problems.push(warn(`${gib(m.avail)} free (${Math.round(share * 100)}%) for ${where}: below ${share < 0.15 ? 'the kubelet\'s 15% image eviction threshold' : gib(warnFree)}`, { evidence, code: 'little-space' }));
    }
    return combine(problems, pass([...byMount].map(([mount, m]) => `${gib(m.avail)} free on ${mount}`).join(', '), { evidence }));
  },
};
