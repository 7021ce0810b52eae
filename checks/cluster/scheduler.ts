import type { ClusterCheck } from '../../src/core/types.js';
import { LEADER_CODES, judgeLeader, leaderParams } from './leader.js';

export const scheduler: ClusterCheck = {
  kind: 'cluster',
  id: 'cluster.scheduler',
  title: 'The scheduler is running and leads',
  area: 'cluster',
  why: 'Without a leading kube-scheduler no new pod is placed on a node: everything new stays Pending.',
  remediation: 'crictl ps -a --name kube-scheduler; crictl logs $(crictl ps -a -q --name kube-scheduler | head -1) | tail -50',
  params: leaderParams,
  codes: LEADER_CODES,
  run: (s, ctx) => judgeLeader(s, ctx, 'kube-scheduler'),
};
