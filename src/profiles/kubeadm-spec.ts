// What kubeadm's preflight holds a host to, as data (from cmd/kubeadm/app/preflight/checks.go and
// k8s.io/system-validators v1.9, the versions kubeadm v1.33 uses): the collector reads what these name,
// the checks judge against them. When kubeadm changes, this file changes (the parity test says so).

/** The Kubernetes version kubecheck judges a pre-install host for when nothing else says (suite param, kubeadm on the host). */
export const DEFAULT_KUBERNETES_VERSION = 'v1.33.0';

/** system-validators' DefaultSysSpec: kernel versions, kernel config, cgroup controllers. */
export const SYS_SPEC = {
  kernelVersions: [/^4\.19.*$/, /^4\.[2-9][0-9].*$/, /^([5-9]|[1-9][0-9]+)\.([0-9]+)\.([0-9]+).*$/],
  kernelRequired: [
    ['NAMESPACES'], ['NET_NS'], ['PID_NS'], ['IPC_NS'], ['UTS_NS'], ['CGROUPS'], ['CPUSETS'], ['MEMCG'], ['INET'], ['EXT4_FS'], ['PROC_FS'],
    ['NETFILTER_XT_TARGET_REDIRECT', 'IP_NF_TARGET_REDIRECT'], ['NETFILTER_XT_MATCH_COMMENT'], ['FAIR_GROUP_SCHED'],
  ],
  kernelOptional: [
    { names: ['OVERLAY_FS', 'OVERLAYFS_FS'], why: 'overlayfs' }, { names: ['AUFS_FS'], why: 'aufs' }, { names: ['BLK_DEV_DM'], why: 'devicemapper' },
    { names: ['CFS_BANDWIDTH'], why: 'CPU quota' }, { names: ['SECCOMP'], why: 'seccomp' }, { names: ['SECCOMP_FILTER'], why: 'seccomp mode 2' },
  ],
  cgroupsV1: ['cpu', 'cpuacct', 'cpuset', 'devices', 'freezer', 'memory', 'pids'],
  cgroupsV1Optional: ['hugetlb', 'blkio'],
  cgroupsV2: ['cpu', 'cpuset', 'devices', 'freezer', 'memory', 'pids'],
  cgroupsV2Optional: ['hugetlb', 'io'],
} as const;

/** Every kernel config name the spec mentions (the collector greps these). */
export const KERNEL_CONFIG_NAMES = [...SYS_SPEC.kernelRequired.flat(), ...SYS_SPEC.kernelOptional.flatMap((o) => o.names)];

/**
 * The executables kubeadm's preflight requires in PATH (InPathCheck, mandatory) for a Kubernetes minor
 * version: losetup, mount, cp since 1.32 (conntrack until 1.31; crictl and the rest before 1.31).
 */
export function requiredBinaries(minor: number): string[] {
  if (minor >= 32) return ['losetup', 'mount', 'cp'];
  if (minor === 31) return ['conntrack', 'losetup', 'mount', 'cp'];
  return ['crictl', 'conntrack', 'ip', 'iptables', 'mount', 'nsenter'];
}

/** kubeadm's warnings (non-mandatory InPathCheck) for older versions. */
export function optionalBinaries(minor: number): string[] {
  return minor <= 30 ? ['ebtables', 'ethtool', 'socat', 'tc', 'touch'] : [];
}

/** What the collector looks for in PATH: every version's list and the tools kubecheck itself relies on. */
export const BINARIES = ['losetup', 'mount', 'cp', 'conntrack', 'crictl', 'ip', 'iptables', 'iptables-save', 'nsenter', 'ebtables', 'ethtool', 'socat', 'tc', 'touch', 'kubelet', 'kubeadm', 'kubectl', 'getent', 'gzip', 'perl', 'python3', 'bash'];

/** kubeadm's MinimumKubeletVersion for its own minor: three minors back (v1.33 accepts kubelets from v1.30). */
export const minimumKubeletMinor = (kubeadmMinor: number) => kubeadmMinor - 3;

/** kubeadm's ControlPlaneNumCPU and ControlPlaneMem (MiB). */
export const CONTROL_PLANE_MIN = { cpus: 2, memoryMiB: 1700 } as const;

/** Files `kubeadm init`/`join` refuses to overwrite (FileAvailable), and the folders it wants empty (DirAvailable), and what else an earlier install leaves. */
export const LEFTOVERS = {
  initFiles: ['/etc/kubernetes/manifests/kube-apiserver.yaml', '/etc/kubernetes/manifests/kube-controller-manager.yaml', '/etc/kubernetes/manifests/kube-scheduler.yaml', '/etc/kubernetes/manifests/etcd.yaml'],
  joinFiles: ['/etc/kubernetes/kubelet.conf', '/etc/kubernetes/bootstrap-kubelet.conf', '/etc/kubernetes/pki/ca.crt'],
  otherFiles: ['/etc/kubernetes/admin.conf', '/var/lib/kubelet/config.yaml', '/etc/rancher/k3s/k3s.yaml'],
  etcdDir: '/var/lib/etcd',
  otherDirs: ['/var/lib/cni', '/var/lib/rancher/k3s'],
} as const;

/** Where the runtime, the kubelet and etcd keep their data: the disk check's folders. */
export const DATA_DIRS = ['/var/lib/containerd', '/var/lib/kubelet', '/var/lib/etcd', '/var/lib/docker', '/var/lib/containers', '/var/lib/rancher'];

/** kube-proxy's IPVS mode needs these modules (and nf_conntrack). */
export const IPVS_MODULES = ['ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_sh', 'nf_conntrack'];

/** The time-sync daemons (process names as the kernel shows them) and their units. */
export const TIME_SYNC = { processes: ['chronyd', 'ntpd', 'systemd-timesyn', 'openntpd', 'timesyncd'], units: ['chrony', 'chronyd', 'ntp', 'ntpd', 'ntpsec', 'systemd-timesyncd'] };
