// What kubecheck knows about a cluster, read once per run through its API (src/k8s/snapshot.ts takes it):
// the data cluster checks judge. Like NodeFacts for a host, it carries no client and no I/O.
import type { Probe } from './facts.js';

/** A list the API served, or why it could not (`forbidden`: RBAC refused it). */
export type Listed<T> = { ok: true; items: T[] } | { ok: false; detail: string; forbidden: boolean };

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastHeartbeatTime?: string;
  lastTransitionTime?: string;
}

export interface NodeInfo {
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  podCIDRs: string[];
  kubeletVersion: string;
  conditions: Condition[];
  addresses: { type: string; address: string }[];
  unschedulable: boolean;
  createdAt?: string;
}

export interface ContainerInfo {
  name: string;
  image: string;
  ready: boolean;
  restarts: number;
  waiting?: { reason?: string; message?: string };
  lastTerminated?: { reason?: string; exitCode?: number; finishedAt?: string };
}

export interface PodInfo {
  namespace: string;
  name: string;
  node?: string;
  phase: string;
  labels: Record<string, string>;
  owner?: { kind: string; name: string };
  ready: boolean;
  containers: ContainerInfo[];
  createdAt?: string;
  deleting: boolean;
  reason?: string;
  message?: string;
}

export interface LeaseInfo {
  namespace: string;
  name: string;
  holder?: string;
  renewTime?: string;
  durationSeconds?: number;
}

export interface WorkloadInfo {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  desired: number;
  ready: number;
  available: number;
  updated: number;
  images: string[];
}

/** A bootstrap token as the checks see it: never its secret part. */
export interface TokenInfo {
  id: string;
  expiration?: string;
  usages: string[];
  description?: string;
  deleting: boolean;
}

export interface ClusterSnapshot {
  server: string;
  /** How the cluster was installed and its CNI, as detected from its nodes and objects (or --profile). */
  profile?: { name: string; cni: string; why: string };
  takenAt: Date;
  version: Probe<{ gitVersion: string; major: string; minor: string }>;
  livez: Probe<{ ok: boolean; body: string }>;
  readyz: Probe<{ ok: boolean; failing: string[]; checks: string[]; body: string }>;
  servingCert: Probe<{ subject: string; notAfter: string }>;
  nodes: Listed<NodeInfo>;
  /** Pods of the system namespaces (kube-system, kube-flannel). */
  systemPods: Listed<PodInfo>;
  nodeLeases: Listed<LeaseInfo>;
  systemLeases: Listed<LeaseInfo>;
  daemonSets: Listed<WorkloadInfo>;
  deployments: Listed<WorkloadInfo>;
  tokens: Listed<TokenInfo>;
  /** Token ids that have a JWS signature in kube-public/cluster-info. */
  clusterInfoSignatures: Probe<string[]>;
  /** kube-flannel's net-conf.json, when flannel is installed. */
  flannelNetConf: Probe<{ network?: string; backend?: string; raw: string }>;
  /** The cluster pod CIDR from kubeadm-config (podSubnet), when kubeadm made the cluster. */
  kubeadmPodSubnet: Probe<string>;
  /** Health endpoints of scheduler and controller-manager, probed on the apiserver's host when reachable. */
  componentHealth: Record<'kube-scheduler' | 'kube-controller-manager', Probe<{ ok: boolean; detail: string }>>;
}

