import type { ClusterCheck } from '../../src/core/types.js';
import { LEADER_CODES, judgeLeader, leaderParams } from './leader.js';

export const controllerManager: ClusterCheck = {
  kind: 'cluster',
  id: 'cluster.controller-manager',
  title: 'The controller-manager is running and leads',
  area: 'cluster',
  why:
    'Without a leading kube-controller-manager nothing reconciles: Deployments do not roll, nodes that die ' +
    'are not marked NotReady, podCIDRs are not allocated, bootstrap tokens are not signed or cleaned up.',
  remediation: 'crictl ps -a --name kube-controller-manager; crictl logs $(crictl ps -a -q --name kube-controller-manager | head -1) | tail -50',
  params: leaderParams,
  codes: LEADER_CODES,
  run: (s, ctx) => judgeLeader(s, ctx, 'kube-controller-manager'),
};
