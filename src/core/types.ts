// The types every layer shares. Definitions (checks, suites) never change; results are new values.

export type Status = 'pass' | 'warn' | 'fail' | 'error' | 'skip';
export const STATUSES: readonly Status[] = ['pass', 'warn', 'fail', 'error', 'skip'];

/** How bad a status is, for "worst of" and for baselines (pass < warn < fail; error counts as fail). */
export const SEVERITY: Record<Status, number> = { skip: 0, pass: 1, warn: 2, fail: 3, error: 3 };

export type Role = 'control-plane' | 'worker' | 'etcd';
export type Phase = 'pre' | 'post';

/** What one check says about one target. */
export interface Finding {
  status: Status;
  message: string;
  /**
   * What was found, stable across releases: the check's own short code (`swap-on`), qualified with the
   * check id by the runner (`node.swap/swap-on`). Every finding but a pass has one.
   */
  code?: string;
  /** Every code when one finding combines several problems (the worst first); `code` is the first. */
  codes?: string[];
  /** Named pieces of raw output that prove the finding (never secrets). */
  evidence?: Record<string, string>;
  /** Overrides the check's generic remediation with the exact command for this target. */
  remediation?: string;
  /** Workload scenarios: each step's outcome and timing. */
  steps?: StepRecord[];
}

/** One step of a workload scenario, as reported. */
export interface StepRecord {
  name: string;
  status: Status;
  durationMs: number;
  message?: string;
}

/** A finding placed on a target, as the runner records it. */
export interface CheckResult {
  check: string;
  target: string;
  status: Status;
  message: string;
  /** The finding's qualified code (`node.swap/swap-on`); set on every result but a pass. */
  code?: string;
  /** All codes, when the result combines several problems (extension). */
  codes?: string[];
  evidence?: Record<string, string>;
  remediation?: string;
  durationMs: number;
  /** Set when the result passed only after retrying (a flaky result). */
  attempts?: number;
  /** Workload scenarios: each step's outcome and timing (an extension to the contract). */
  steps?: StepRecord[];
}

export interface Diagnosis {
  node: string;
  /** Extension: how the cluster sees the node ("NotReady since 14:02", "Ready"), when known. */
  state?: string;
  cause: string;
  confidence: 'high' | 'medium' | 'low';
  summary: string;
  evidence: string[];
  fix: string[];
  /** Extension: the check findings (qualified codes) the diagnosis rests on. */
  codes?: string[];
}

export type Summary = Record<Status, number>;

export interface RunResult {
  schemaVersion: 1;
  tool: { name: 'kubecheck'; version: string };
  command: string;
  startedAt: string;
  durationMs: number;
  summary: Summary;
  results: CheckResult[];
  diagnoses?: Diagnosis[];
  /** Extensions to the contract: the suite that ran and the run's parameters. */
  suite?: string;
  parameters?: Record<string, string>;
  interrupted?: boolean;
  /** With --baseline: how this run compares with the saved one (unchanged results left out). */
  baseline?: {
    file: string;
    counts: Record<string, number>;
    changes: { check: string; target: string; kind: string; before?: Status; after?: Status; message: string }[];
    addedTargets: string[];
    removedTargets: string[];
    regressed: boolean;
  };
  /** How many targets were attempted and how many could be reached (exit 3 when none). */
  targets?: { total: number; reached: number };
}

/** A reporter renders a finished run; it never decides the exit code. */
export interface Reporter {
  render(run: RunResult): string;
}

export type Area = 'node' | 'fleet' | 'cni' | 'cluster' | 'token' | 'workload';

/** JSON Schema (a subset ajv accepts) describing a check's params. */
export type ParamsSchema = Record<string, unknown>;

interface CheckBase {
  id: string;
  title: string;
  area: Area;
  /** Why it matters, for `kubecheck explain`. */
  why: string;
  /** Generic remediation; findings may give a more exact one. */
  remediation: string;
  /**
   * The catalogue of what this check can find: short code → what it means. Findings use these codes
   * (besides the generic ones every check may give: see GENERIC_CODES); the doctor and fixes read them.
   */
  codes: Record<string, string>;
  /** Schema of the params a suite may pass (validated when the suite loads). */
  params?: ParamsSchema;
}

/** Everything a host check may use besides the facts: who the host is and how the run was asked. */
export interface HostContext {
  host: string;
  roles: readonly Role[];
  phase: Phase;
  params: Record<string, unknown>;
  now: Date;
  /** The node's podCIDRs from the cluster, when a cluster was given too (doctor, run with both). */
  podCIDRs?: string[];
}

export interface NodeCheck extends CheckBase {
  kind: 'node';
  run(facts: import('./facts.js').NodeFacts, ctx: HostContext): Finding;
}

export interface FleetMember {
  host: string;
  roles: readonly Role[];
  facts: import('./facts.js').NodeFacts;
}

export interface FleetContext {
  phase: Phase;
  params: Record<string, unknown>;
  now: Date;
}

/** A fleet check sees every reachable host's facts and returns one finding per host it judges. */
export interface FleetCheck extends CheckBase {
  kind: 'fleet';
  run(members: readonly FleetMember[], ctx: FleetContext): Map<string, Finding>;
}

export interface ClusterContext {
  params: Record<string, unknown>;
  now: Date;
}

/**
 * A cluster check judges the shared snapshot. It returns one finding (target `cluster`) or one per node
 * (target = node name).
 */
export interface ClusterCheck extends CheckBase {
  kind: 'cluster';
  run(snapshot: import('../k8s/snapshot.js').ClusterSnapshot, ctx: ClusterContext): Finding | Map<string, Finding>;
}

/** Run-wide settings for workload scenarios (the suite's `workloads:` block, --image-registry). */
export interface WorkloadSettings {
  /** Pull every image through this registry (mirror) instead of its own: `nginx:1.22` → `REG/library/nginx:1.22`. */
  imageRegistry?: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /** Requests (and nothing else) set on every container, e.g. {cpu: 10m, memory: 32Mi}. */
  requests?: Record<string, string>;
  /** Only schedule scenario pods on nodes with these labels. */
  nodeSelector?: Record<string, string>;
  /** How long to wait for a scenario's namespace to be gone after it ran (seconds). */
  cleanupTimeout?: number;
  /** Timeout of the steps that only create, change or read something (seconds, default 60). */
  stepTimeout?: number;
}

export interface WorkloadContext {
  api: import('../k8s/api.js').KubeApi;
  params: Record<string, unknown>;
  settings: WorkloadSettings;
  /** The run's signal: Ctrl-C. A scenario still removes its namespace after it aborts. */
  signal: AbortSignal;
  now: () => Date;
}

/**
 * A workload check runs a scenario against the cluster: the only kind of check that changes anything,
 * inside a namespace of its own that it always deletes. Its finding carries the steps it went through.
 */
export interface WorkloadCheck extends CheckBase {
  kind: 'workload';
  /** The scenario's manifests (YAML next to the check), from the package root. */
  manifests: string;
  run(ctx: WorkloadContext): Promise<Finding>;
}

export type Check = NodeCheck | FleetCheck | ClusterCheck | WorkloadCheck;
