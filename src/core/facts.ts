// NodeFacts: everything the host checks judge, gathered by one collector script per host per run.

/** A fact that may not have been readable; checks say why instead of passing silently. */
export type Probe<T> =
  | { ok: true; value: T }
  | { ok: false; reason: 'missing' | 'denied' | 'unavailable' | 'error'; detail: string };

export const known = <T>(value: T): Probe<T> => ({ ok: true, value });
export const unknown = <T>(reason: 'missing' | 'denied' | 'unavailable' | 'error', detail: string): Probe<T> => ({
  ok: false,
  reason,
  detail,
});

export interface SwapDevice {
  device: string;
  type: string;
  sizeKiB: number;
  usedKiB: number;
  priority: number;
}

export interface NetLink {
  name: string;
  /** Absent for links with no link-layer address (tun, wireguard, ip6tnl…). */
  mac?: string;
  kind?: string;
  up: boolean;
  addresses: { family: 'inet' | 'inet6'; address: string; prefix: number }[];
}

export interface Listener {
  proto: 'tcp' | 'udp';
  address: string;
  port: number;
  /** Process name as the kernel reports it (comm, cut at 15 characters); absent when unknown. */
  process?: string;
  pid?: number;
}

export interface Certificate {
  path: string;
  subject: string;
  notBefore: string;
  notAfter: string;
}

export interface CertificateProblem {
  path: string;
  error: string;
}

export interface CniFacts {
  /** The runtime's CNI folders on this host (from its install profile: /opt/cni/bin, /etc/cni/net.d for kubeadm). */
  binDir: string;
  confDir: string;
  /** Files in the CNI bin folder and whether each is executable. */
  binaries: Probe<{ name: string; executable: boolean }[]>;
  /** Files in /etc/cni/net.d with their content. */
  configs: Probe<{ name: string; content: string }[]>;
  /** /run/flannel/subnet.env as key/value pairs. */
  subnetEnv: Probe<Record<string, string>>;
}

export interface NodeFacts {
  hostname: string;
  kernel: string;
  os: string;
  /** The effective uid the collector ran as (0 = root). */
  uid: number | null;
  /** 'systemd' when systemd is PID 1, else 'other' (services are then judged by their processes). */
  init: 'systemd' | 'other';
  /** Host clock in ms since the epoch when the collector started, and the estimated offset from this client. */
  clock: { hostMs: number; offsetMs: number; rttMs: number } | null;
  swaps: Probe<SwapDevice[]>;
  /** Uncommented swap lines of /etc/fstab. */
  fstabSwap: Probe<string[]>;
  productUuid: Probe<string>;
  links: Probe<NetLink[]>;
  listeners: Probe<Listener[]>;
  /** Whether listeners carry process names (false when read from /proc/net without ss, or as non-root). */
  listenerProcesses: boolean;
  /** Dotted sysctl name → value; null when the key does not exist (e.g. br_netfilter not loaded). */
  sysctls: Record<string, string | null>;
  /** Kernel modules present (loaded or built in) among those kubeadm cares about. */
  modules: string[];
  cpus: number | null;
  memoryMiB: number | null;
  /** Processes of interest by name (comm): kubelet, containerd, firewalld, … */
  processes: { pid: number; comm: string }[];
  /** systemd unit states, only on systemd hosts. */
  services: Record<string, string>;
  /** The install's units: their unit file (when installed) and whether they are enabled at boot (read from the files). */
  units: Record<string, { file?: string; enabled: boolean }>;
  /** Install layout markers present on the host (what the profile was detected from). */
  layout: string[];
  /** Container runtimes installed on the host (containerd, crio, dockerd, cri-dockerd), found in PATH. */
  runtimesInstalled: string[];
  /** CRI sockets present and whether something answers on them. */
  runtimeSockets: { path: string; listening: boolean; answer?: string }[];
  kubeletHealthz: Probe<{ ok: boolean; detail: string }>;
  selinux: 'enforcing' | 'permissive' | 'disabled';
  certificates: (Certificate | CertificateProblem)[];
  cni: CniFacts;
  /** cgroup drivers configured for the kubelet and containerd, when found. */
  cgroupDrivers: { kubelet?: string; containerd?: string };
  /** How this host was installed (kubeadm, binary, k3s, minikube) and its CNI, as detected (or as --profile says). */
  profile: { name: string; cni: string; why: string };
  /** Raw outputs per section, kept for evidence. */
  raw: Record<string, string>;
}
