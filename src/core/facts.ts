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

export interface DefaultRoute {
  family: 'inet' | 'inet6';
  dev: string;
  gateway?: string;
  prefsrc?: string;
}

export interface ProxySetting {
  /** `env` (the session's environment), `/etc/environment`, or a unit drop-in file. */
  source: string;
  name: string;
  value: string;
}

export interface Leftovers {
  files: string[];
  nonEmptyDirs: string[];
  links: string[];
  /** KUBE-* iptables chains, when read (before an install). */
  kubeChains: number | null;
}

export interface Persisted {
  /** Each sysctl's value after a reboot: the last file that sets it, in systemd-sysctl's order. */
  sysctls: Record<string, { value: string; file: string }>;
  /** Modules loaded at boot, with the file that lists them. */
  modules: { name: string; file: string }[];
  selinux?: { mode: string; file: string };
  swappiness: string | null;
}

export interface DiskSpace {
  path: string;
  /** The folder measured (the path, or its nearest existing parent). */
  measured: string;
  mount: string;
  sizeKiB: number;
  availableKiB: number;
}

export interface RuntimeConfig {
  dockerDaemon?: { text: string; json?: Record<string, unknown>; error?: string };
  /** /etc/docker/certs.d/HOST/ and /etc/containerd/certs.d/HOST/ with their files. */
  certDirs: { dir: string; host: string; files: string[] }[];
  containerdHosts: { file: string; content: string }[];
  /** The registry-related lines of /etc/containerd/config.toml. */
  containerdLines: string[];
}

export interface SystemInputs {
  /** As system-validators decides it from /proc/mounts. */
  cgroupVersion: 'v1' | 'v2' | 'unknown';
  /** Enabled controllers: /proc/cgroups' (v1) or cgroup.controllers plus devices/freezer (v2). */
  controllers: string[];
  cgroupMounts: string[];
  /** CONFIG_X → y/m, from the first kernel config file found (null when none was found). */
  kernelConfig: { source: string; values: Record<string, string> } | null;
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
  /** Those of them built into the kernel (nothing to load at boot). */
  builtinModules: string[];
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
  runtimeSockets: { path: string; listening: boolean; answer?: string; problem?: string }[];
  kubeletHealthz: Probe<{ ok: boolean; detail: string }>;
  selinux: 'enforcing' | 'permissive' | 'disabled';
  certificates: (Certificate | CertificateProblem)[];
  cni: CniFacts;
  /** cgroup drivers configured for the kubelet and containerd, when found. */
  cgroupDrivers: { kubelet?: string; containerd?: string };
  /** How this host was installed (kubeadm, binary, k3s, minikube) and its CNI, as detected (or as --profile says). */
  profile: { name: string; cni: string; why: string };
  /** Executables in PATH (name → path, null when absent), as kubeadm's InPathCheck looks for them. */
  binaries: Probe<Record<string, string | null>>;
  /** `kubelet --version` and `kubeadm version` on the host, read when no kubelet runs (before an install). */
  versions: { kubelet?: string; kubeadm?: string; kubeletError?: string; kubeadmError?: string };
  /** What the hostname resolves to through NSS (/etc/hosts, DNS), as the kubelet and kubeadm look it up. */
  hostnameAddresses: Probe<string[]>;
  /** The default routes (the interface kubeadm, the kubelet and flannel take an address from). */
  defaultRoutes: Probe<DefaultRoute[]>;
  /** Proxy settings of the session, /etc/environment and the runtime's/kubelet's units (credentials masked on the host). */
  proxy: ProxySetting[];
  /** What an earlier install left. */
  leftovers: Leftovers;
  /** What the host will have after a reboot (sysctl.d, modules-load.d, SELinux config). */
  persisted: Persisted;
  disk: Probe<DiskSpace[]>;
  runtimeConfig: RuntimeConfig;
  /** What kubeadm's SystemVerification reads: cgroup version and controllers, the kernel config. */
  system: Probe<SystemInputs>;
  /**
   * Connections tried from this host over its own connection after the collector ran (its sshd dials):
   * the registries and mirrors its runtime is configured for, and any asked for. Absent when not tried.
   */
  endpoints?: { address: string; url?: string; ok: boolean; detail: string }[];
  /**
   * Raw outputs of the sections a check shows as evidence (or the doctor reads): only those are kept, since
   * a fleet's facts are all held until the fleet checks run (the rest is ~15 KB a host: ip -j addr, certificates…).
   */
  raw: Partial<Record<EvidenceSection, string>>;
  /** How these facts were gathered (the transport's way), when the caller knows: an in-cluster host may have fallen back to SSH. */
  reachedBy?: 'local' | 'ssh' | 'in-cluster';
}

/** The collector sections whose raw text is kept in NodeFacts.raw; add one here before a check shows it. */
export const EVIDENCE_SECTIONS = ['meta', 'healthz', 'swaps', 'persist', 'sysctls', 'leftovers', 'crisock', 'listen', 'listenproc', 'selinux', 'kubeletlog'] as const;
export type EvidenceSection = (typeof EVIDENCE_SECTIONS)[number];

/**
 * What the fleet checks and the probes between hosts read of a host's facts: all the runner keeps of a
 * host once its node checks are judged (thousands of hosts' whole facts are not held until the end).
 * Reading another field in a fleet check is a compile error: add it here first.
 */
export const FLEET_FACTS = ['hostname', 'clock', 'productUuid', 'links', 'defaultRoutes', 'hostnameAddresses', 'binaries', 'listeners', 'profile'] as const satisfies readonly (keyof NodeFacts)[];
export type FleetFacts = Pick<NodeFacts, (typeof FLEET_FACTS)[number]>;

/** The part of `facts` the fleet checks read (a new object; the rest can be collected). */
export function fleetFactsOf(facts: NodeFacts): FleetFacts {
  return Object.fromEntries(FLEET_FACTS.map((k) => [k, facts[k]])) as FleetFacts;
}

/** One path probed between two hosts: from `from`, to `to`'s address and port. */
export interface PathProbe {
  from: string;
  to: string;
  address: string;
  port: number;
  proto: 'tcp' | 'udp';
  /** What needs the path (`the API server`, `flannel VXLAN`…). */
  why: string;
  ok: boolean;
  /** connected / refused / timed out / no route…, and how the far end listened. */
  detail: string;
}

/** What the run learned by making the hosts talk to each other, after every host's facts were in. */
export interface FleetProbes {
  reachability?: {
    paths: PathProbe[];
    notes: string[];
    /** Hosts whose own probe did not run (their paths were not tried), with why. */
    notProbed?: Record<string, string>;
    skipped?: string;
  };
  /** Each host's lookup of the other hosts' names (as its kubelet and tools would resolve them). */
  names?: { lookups: { from: string; name: string; addresses: string[] | null; detail?: string }[]; skipped?: string };
}
