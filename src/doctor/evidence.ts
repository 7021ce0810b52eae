// What doctor knows about one node: the cluster's view (conditions, lease, events, pods) and the host's
// (node collector facts and the kubelet's recent log lines), either of which may be missing.
import type { NodeFacts } from '../core/facts.js';
import type { Condition, NodeInfo, PodInfo } from '../k8s/snapshot.js';

export interface ClusterEvidence {
  node: NodeInfo;
  ready?: Condition;
  leaseRenewTime?: string;
  leaseDurationSeconds?: number;
  /** `reason: message` of recent events on the node and on its pods, newest last. */
  events: string[];
  pods: PodInfo[];
  /** Bootstrap tokens still valid (for nodes that never joined). */
  validTokens?: number;
}

export interface NodeEvidence {
  node: string;
  now: Date;
  cluster?: ClusterEvidence;
  /** The cluster was asked but this node is not in it (or the cluster could not be read). */
  clusterProblem?: string;
  host?: { facts: NodeFacts; kubeletLog: string[]; roles: string[] };
  /** The host was asked but could not be reached (the reason). */
  hostProblem?: string;
}

export type Confidence = 'high' | 'medium' | 'low';

export interface RuleMatch {
  confidence: Confidence;
  summary: string;
  evidence: string[];
  fix: string[];
}

/** One cause from the catalogue: matches evidence and says how sure it is, what proves it and the fix. */
export interface Rule {
  cause: string;
  /** Lower runs deeper: a root cause (swap) outranks its effect (kubelet down) at the same confidence. */
  depth: number;
  match(e: NodeEvidence): RuleMatch | null;
}

/** Lines from the kubelet log and the events that contain any of the patterns. */
export function linesMatching(e: NodeEvidence, patterns: (string | RegExp)[]): string[] {
  const lines = [...(e.host?.kubeletLog ?? []), ...(e.cluster?.events ?? []), ...(e.cluster?.ready?.message ? [`Ready=${e.cluster.ready.status}: ${e.cluster.ready.message}`] : [])];
  const hits = lines.filter((l) => patterns.some((p) => (typeof p === 'string' ? l.includes(p) : p.test(l))));
  return [...new Set(hits)].slice(-5);
}
