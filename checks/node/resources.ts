import type { Finding, NodeCheck } from '../../src/core/types.js';
import { combine, error, fail, pass } from '../../src/core/findings.js';

export const resources: NodeCheck = {
  kind: 'node',
  id: 'node.resources',
  title: 'Enough CPU and memory',
  area: 'node',
  codes: {
    'too-few-cpus': 'fewer CPUs than kubeadm requires (2 on a control plane)',
    'too-little-memory': 'less memory than kubeadm requires (1700 MB on a control plane)',
  },
  why:
    'kubeadm refuses to set up a control plane on fewer than 2 CPUs or less than 1700 MB of memory: ' +
    'the apiserver, etcd, scheduler and controller-manager would starve each other.',
  remediation: 'give the machine at least 2 CPUs and 2 GB of memory',
  params: {
    type: 'object',
    properties: {
      minCpus: { type: 'integer', minimum: 1 },
      minMemoryMiB: { type: 'integer', minimum: 1 },
    },
    additionalProperties: false,
  },
  run(facts, ctx) {
    const controlPlane = ctx.roles.length === 0 || ctx.roles.includes('control-plane');
    const minCpus = typeof ctx.params.minCpus === 'number' ? ctx.params.minCpus : controlPlane ? 2 : 1;
    const minMemory = typeof ctx.params.minMemoryMiB === 'number' ? ctx.params.minMemoryMiB : controlPlane ? 1700 : 0;
    if (facts.cpus === null || facts.memoryMiB === null) {
      return error('could not read the CPU count or memory size from the host', { evidence: { meta: facts.raw.meta ?? '' }, code: 'unreadable' });
    }
    const evidence = { resources: `cpus=${facts.cpus} memory=${facts.memoryMiB} MiB` };
    const problems: Finding[] = [];
    if (facts.cpus < minCpus) problems.push(fail(`${facts.cpus} CPU${facts.cpus === 1 ? '' : 's'}, at least ${minCpus} needed`, { evidence, code: 'too-few-cpus' }));
    if (facts.memoryMiB < minMemory) problems.push(fail(`${facts.memoryMiB} MiB of memory, at least ${minMemory} MiB needed`, { evidence, code: 'too-little-memory' }));
    return combine(problems, pass(`${facts.cpus} CPUs, ${facts.memoryMiB} MiB of memory`, { evidence }));
  },
};
