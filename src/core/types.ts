// The types every layer shares. Definitions (checks, suites) never change; results are new values.
import type { ClusterSnapshot } from './cluster.js';
import type { FleetFacts, FleetProbes, NodeFacts } from './facts.js';

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
  /** Every target the run tried: how it was reached (or why not) and the install profile detected there (exit 3 when none was reached). */
  targets?: TargetInfo[];
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
  /** The cluster's minor version (33 for v1.33), when a cluster was given: ports and skew depend on it. */
  clusterMinor?: number;
}

export interface NodeCheck extends CheckBase {
  kind: 'node';
  run(facts: NodeFacts, ctx: HostContext): Finding;
}

/** Who is who in the fleet, as far as the paths between hosts go: each host of the run and its roles. */
export interface FleetShape {
  host: string;
  roles: readonly Role[];
}

export interface FleetMember {
  host: string;
  roles: readonly Role[];
  /** What fleet checks read of the host's facts (FLEET_FACTS). */
  facts: FleetFacts;
  /** The address the host was reached at (the inventory's), when known. */
  address?: string;
}

export interface FleetContext {
  phase: Phase;
  params: Record<string, unknown>;
  now: Date;
  /** What the hosts found by talking to each other (when the check asked for it). */
  probes?: FleetProbes;
}

export type FleetProbeKind = keyof FleetProbes;

/** A fleet check sees every reachable host's facts and returns one finding per host it judges. */
export interface FleetCheck extends CheckBase {
  kind: 'fleet';
  /** Probes between hosts this check judges; the runner has them made while the connections are open. */
  probes?: FleetProbeKind[];
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
  run(snapshot: ClusterSnapshot, ctx: ClusterContext): Finding | Map<string, Finding>;
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

/**
 * What a scenario runs with. `Api` is the cluster client (the CLI gives src/k8s's KubeApi); the core never
 * looks inside it, it only hands it on.
 */
export interface WorkloadContext<Api = unknown> {
  api: Api;
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
export interface WorkloadCheck<Api = unknown> extends CheckBase {
  kind: 'workload';
  /** The scenario's manifests (YAML next to the check), from the package root. */
  manifests: string;
  run(ctx: WorkloadContext<Api>): Promise<Finding>;
}

/** One check of a suite, with its params (validated against the check's schema when the suite loads). */
export interface SuiteEntry {
  id: string;
  params: Record<string, unknown>;
}

/** A suite file, loaded and validated. */
export interface Suite {
  name: string;
  description?: string;
  phase?: Phase;
  roles?: Role[];
  checks: SuiteEntry[];
  /** Settings for workload scenarios. */
  workloads?: WorkloadSettings;
  file: string;
}

/** A host to check, as the runner sees it: its name in reports, the address it is reached at, its roles. */
export interface HostTarget {
  name: string;
  /** The address connected to, so doctor can match a host to a node by address. */
  address?: string;
  roles: Role[];
  /** How it is reached, for the report. */
  via?: 'local' | 'ssh' | 'in-cluster';
  /** Its node's podCIDRs, when the target came from the cluster's node list (in-cluster): no second list of nodes is needed. */
  podCIDRs?: string[];
}

/** One target of a run, as the report lists it (an extension of the JSON contract). */
export interface TargetInfo {
  name: string;
  kind: 'host' | 'cluster';
  reached: boolean;
  reachedBy?: 'local' | 'ssh' | 'in-cluster' | 'api';
  /** The install profile detected there (kubeadm, binary, k3s, minikube), and its CNI. */
  profile?: string;
  cni?: string;
  /** Why it was not reached. */
  problem?: string;
}

export type Check<Api = unknown> = NodeCheck | FleetCheck | ClusterCheck | WorkloadCheck<Api>;
