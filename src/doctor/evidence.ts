// What doctor knows about one node: the findings of kubecheck's own checks on the host's facts and on
// the cluster's view of the node (by code: one judgment per fact, made by the check), the kubelet's recent
// log lines, and the cluster's events and conditions. Rules read findings by code; they never see raw
// host facts, so a fact is judged once, by its check, and the doctor and the checks cannot drift apart.
import type { CheckResult } from '../core/types.js';
import type { Condition, NodeInfo, PodInfo } from '../k8s/snapshot.js';

export interface ClusterEvidence {
  node: NodeInfo;
  ready?: Condition;
  leaseRenewTime?: string;
  leaseDurationSeconds?: number;
  /** `reason: message` of recent events on the node and on its pods, newest last. */
  events: string[];
  pods: PodInfo[];
}

export interface HostEvidence {
  /** How services are started there: `systemctl` only where systemd is PID 1. */
  init: 'systemd' | 'other';
  /** The kubelet's log lines since it last started (journald, else its log file). */
  kubeletLog: string[];
  roles: string[];
  /** The install profile detected on the host. */
  profile?: { name: string; cni: string };
}

export interface NodeEvidence {
  node: string;
  now: Date;
  cluster?: ClusterEvidence;
  /** The cluster was asked but this node is not in it (or the cluster could not be read). */
  clusterProblem?: string;
  host?: HostEvidence;
  /** The host was asked but could not be reached (the reason). */
  hostProblem?: string;
  /**
   * Results of the checks that ran on this node's evidence: node checks on the host's facts (post-install),
   * the fleet's clock check, and the cluster checks' results for this node (and the cluster-wide token check).
   */
  results: CheckResult[];
}

export type Confidence = 'high' | 'medium' | 'low';

export interface RuleMatch {
  confidence: Confidence;
  summary: string;
  evidence: string[];
  fix: string[];
  /** The check findings (qualified codes) this diagnosis rests on. */
  codes?: string[];
}

/** One cause from the catalogue: matches evidence and says how sure it is, what proves it and the fix. */
export interface Rule {
  cause: string;
  /** Lower runs deeper: a root cause (swap) outranks its effect (kubelet down) at the same confidence. */
  depth: number;
  /** The finding codes the cause rests on when the host (or cluster) was looked at; empty for log-only causes. */
  codes: readonly string[];
  match(e: NodeEvidence): RuleMatch | null;
}

/** The first result carrying one of these codes (qualified: `node.swap/swap-on`), with the ones it carries. */
export function found(e: NodeEvidence, ...codes: string[]): (CheckResult & { matched: string[] }) | undefined {
  for (const r of e.results) {
    const matched = (r.codes ?? (r.code ? [r.code] : [])).filter((c) => codes.includes(c));
    if (matched.length) return { ...r, matched };
  }
  return undefined;
}

/** Whether a check ran on this node and reached a verdict (pass, warn or fail): its silence is meaningful. */
export function judged(e: NodeEvidence, check: string): boolean {
  return e.results.some((r) => r.check === check && (r.status === 'pass' || r.status === 'warn' || r.status === 'fail'));
}

/** A finding as diagnosis evidence: its message, then its evidence values (first lines). */
export function cite(r: CheckResult, maxLines = 3): string[] {
  const lines = [r.message];
  for (const [k, v] of Object.entries(r.evidence ?? {})) {
    const shown = v.split('\n').filter(Boolean).slice(0, maxLines).join('\n');
    if (shown) lines.push(`${k}: ${shown}`);
  }
  return lines;
}

/** The fix a finding carries: the check's remediation, exact for this target, one command per line. */
export function fixOf(r: CheckResult): string[] {
  return (r.remediation ?? '').split('\n').map((l) => l.trim()).filter(Boolean);
}

/** klog's header (`E1202 15:06:29.312283   30216 run.go:72] `): lines that differ only by it are one message. */
const KLOG_HEADER = /^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+\s+\S+:\d+\]\s+/;

/**
 * The lines of the kubelet's log since its last start. A kubelet that restarts prints its version line
 * each time; what it said before that is history (a fault already repaired), not the present state.
 */
export function currentRun(lines: string[]): string[] {
  let start = -1;
  lines.forEach((l, i) => {
    if (/"Kubelet version" kubeletVersion=|Kubelet version: /.test(l)) start = i;
  });
  // The failure that ended the last run is printed after its version line, so the run is kept whole.
  return start >= 0 ? lines.slice(start) : lines;
}

/**
 * Lines from the kubelet log and the events that contain any of the patterns, the same message once
 * (the newest, with how often it repeated), newest last, at most 5.
 */
export function linesMatching(e: NodeEvidence, patterns: (string | RegExp)[]): string[] {
  const lines = [...(e.host?.kubeletLog ?? []), ...(e.cluster?.events ?? []), ...(e.cluster?.ready?.message ? [`Ready=${e.cluster.ready.status}: ${e.cluster.ready.message}`] : [])];
  const hits = lines.filter((l) => patterns.some((p) => (typeof p === 'string' ? l.includes(p) : p.test(l))));
  const byMessage = new Map<string, { line: string; count: number }>();
  for (const line of hits) {
    const key = line.replace(KLOG_HEADER, '').replace(/\b[0-9a-f]{64}\b/g, 'ID').replace(/\b[0-9a-f]{8}-[0-9a-f-]{27}\b/g, 'UID');
    const seen = byMessage.get(key);
    byMessage.delete(key);
    byMessage.set(key, { line, count: (seen?.count ?? 0) + 1 });
  }
  return [...byMessage.values()].map(({ line, count }) => (count > 1 ? `${line} (×${count})` : line)).slice(-5);
}
