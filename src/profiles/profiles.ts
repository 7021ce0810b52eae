// Install profiles: how a cluster was built, as data. A profile says where an install keeps things and what
// runs where — CNI dirs, certificates, kubeconfigs, the runtime's socket and config, the component
// processes and their ports, the host services (units) and where the kubelet logs, and which cluster
// objects to expect. The collector reads every profile's paths in its one run; the parser detects the
// profile from what is there (or takes --profile) and picks that profile's facts; checks and doctor rules
// read the profile instead of hard-coding a layout.

export type ProfileName = 'kubeadm' | 'binary' | 'k3s' | 'minikube';
export const PROFILE_NAMES: readonly ProfileName[] = ['kubeadm', 'binary', 'k3s', 'minikube'];

/** A component that listens: the ports it holds by version and the process names (comm) that may hold them. */
export interface ComponentPorts {
  component: string;
  owners: string[];
  roles: ('control-plane' | 'worker' | 'etcd')[];
  /** Its ports; `until`/`since` bound them by the cluster's minor version (the insecure ports before 1.17…). */
  ports: { from: number; to: number; since?: number; until?: number; legacy?: boolean }[];
}

/** How a cluster object is run in this install: a Kubernetes object to expect, a host service, or inside the distribution's own binary. */
export type RunsAs = 'daemonset' | 'host-service' | 'embedded' | 'none';

export interface InstallProfile {
  name: ProfileName;
  title: string;
  /** The runtime's CNI folders: the config it loads and the plugins it runs. */
  cni: { confDir: string; binDir: string; stateDir: string };
  /** flanneld's lease file, which the flannel CNI plugin reads for every pod. */
  flannelSubnetEnv: string;
  /** Certificate files (globs) whose dates matter; the kubelet's client certificate among them. */
  certificates: string[];
  kubeletClientCert: string[];
  /** The kubelet's config file (its cgroupDriver), when it has one. */
  kubeletConfig?: string;
  runtime: { sockets: string[]; configs: string[] };
  /** Host services (systemd units) of this install, by role; judged by their processes where systemd does not run. */
  services: { unit: string; process: string[]; roles: ('control-plane' | 'worker' | 'etcd')[] }[];
  /** Where the kubelet's log is: journald units, else files. */
  kubeletLog: { units: string[]; files: string[] };
  /** The kubelet's process names (k3s runs it inside its own binary). */
  kubeletProcess: string[];
  ports: ComponentPorts[];
  /** How kube-proxy and flannel run: the cluster checks expect their DaemonSets only when they are DaemonSets. */
  cluster: { kubeProxy: RunsAs; flannel: RunsAs; staticPods: boolean };
  /** Files or folders whose presence marks a host installed this way (detection). */
  markers: string[];
}

const K8S_CP = ['control-plane'] as const;
const ALL = ['control-plane', 'worker'] as const;

/** The ports of kubeadm's and the binary install's components (10251/10252: the insecure ports before 1.17). */
function standardPorts(extraOwners: string[] = []): ComponentPorts[] {
  return [
    { component: 'kube-apiserver', owners: ['kube-apiserver', ...extraOwners], roles: [...K8S_CP], ports: [{ from: 6443, to: 6443 }] },
    { component: 'etcd', owners: ['etcd', ...extraOwners], roles: ['control-plane', 'etcd'], ports: [{ from: 2379, to: 2380 }] },
    { component: 'kubelet', owners: ['kubelet', ...extraOwners], roles: [...ALL], ports: [{ from: 10250, to: 10250 }] },
    { component: 'kube-controller-manager', owners: ['kube-controller', ...extraOwners], roles: [...K8S_CP], ports: [{ from: 10257, to: 10257, since: 13 }, { from: 10252, to: 10252, until: 16, legacy: true }] },
    { component: 'kube-scheduler', owners: ['kube-scheduler', ...extraOwners], roles: [...K8S_CP], ports: [{ from: 10259, to: 10259, since: 13 }, { from: 10251, to: 10251, until: 16, legacy: true }] },
  ];
}

const KUBEADM: InstallProfile = {
  name: 'kubeadm',
  title: 'kubeadm (control plane as static pods, kube-proxy and flannel as DaemonSets)',
  cni: { confDir: '/etc/cni/net.d', binDir: '/opt/cni/bin', stateDir: '/var/lib/cni' },
  flannelSubnetEnv: '/run/flannel/subnet.env',
  certificates: ['/etc/kubernetes/pki/*.crt', '/etc/kubernetes/pki/etcd/*.crt', '/var/lib/kubelet/pki/kubelet-client-current.pem', '/var/lib/kubelet/pki/kubelet.crt'],
  kubeletClientCert: ['/var/lib/kubelet/pki/kubelet-client-current.pem'],
  kubeletConfig: '/var/lib/kubelet/config.yaml',
  runtime: { sockets: ['/run/containerd/containerd.sock', '/run/crio/crio.sock', '/var/run/crio/crio.sock', '/run/cri-dockerd.sock', '/var/run/cri-dockerd.sock'], configs: ['/etc/containerd/config.toml'] },
  services: [],
  kubeletLog: { units: ['kubelet'], files: ['/var/log/kubelet.log', '/var/log/kubelet/kubelet.log', '/var/log/kubernetes/kubelet.log'] },
  kubeletProcess: ['kubelet'],
  ports: standardPorts(),
  cluster: { kubeProxy: 'daemonset', flannel: 'daemonset', staticPods: true },
  markers: ['/etc/kubernetes/manifests', '/var/lib/kubelet/kubeadm-flags.env', '/etc/kubernetes/kubelet.conf'],
};

/**
 * The HA binary install of the install guides: every component a systemd unit (kube-proxy and flanneld
 * on every node too), certificates in /etc/kubernetes/cert and /etc/etcd/cert, kubeconfigs beside them,
 * an nginx (or haproxy) L4 proxy to the apiservers on each node.
 */
const BINARY: InstallProfile = {
  name: 'binary',
  title: 'binary HA install (every component a systemd unit, certificates in /etc/kubernetes/cert)',
  cni: { confDir: '/etc/cni/net.d', binDir: '/opt/cni/bin', stateDir: '/var/lib/cni' },
  flannelSubnetEnv: '/run/flannel/subnet.env',
  certificates: ['/etc/kubernetes/cert/*.pem', '/etc/etcd/cert/*.pem', '/etc/kubernetes/cert/kubelet-client-current.pem', '/var/lib/kubelet/pki/kubelet-client-current.pem'],
  kubeletClientCert: ['/etc/kubernetes/cert/kubelet-client-current.pem', '/var/lib/kubelet/pki/kubelet-client-current.pem'],
  kubeletConfig: '/etc/kubernetes/kubelet-config.yaml',
  runtime: { sockets: ['/run/containerd/containerd.sock', '/var/run/docker.sock', '/run/cri-dockerd.sock'], configs: ['/etc/containerd/config.toml'] },
  services: [
    { unit: 'kube-apiserver', process: ['kube-apiserver'], roles: ['control-plane'] },
    { unit: 'kube-controller-manager', process: ['kube-controller'], roles: ['control-plane'] },
    { unit: 'kube-scheduler', process: ['kube-scheduler'], roles: ['control-plane'] },
    { unit: 'etcd', process: ['etcd'], roles: ['etcd'] },
    { unit: 'kube-proxy', process: ['kube-proxy'], roles: ['control-plane', 'worker'] },
    { unit: 'flanneld', process: ['flanneld'], roles: ['control-plane', 'worker'] },
  ],
  kubeletLog: { units: ['kubelet'], files: ['/var/log/kubernetes/kubelet.log', '/var/log/kubelet.log'] },
  kubeletProcess: ['kubelet'],
  ports: standardPorts(),
  cluster: { kubeProxy: 'host-service', flannel: 'host-service', staticPods: false },
  markers: ['/etc/kubernetes/cert', '/etc/etcd/cert', '/etc/systemd/system/kube-apiserver.service', '/etc/systemd/system/kube-proxy.service', '/etc/systemd/system/flanneld.service'],
};

const K3S_OWNERS = ['k3s', 'k3s-server', 'k3s-agent'];

/**
 * k3s: one binary runs the server (or agent), the kubelet, kube-proxy, flannel and containerd; its files
 * live under /var/lib/rancher/k3s and /etc/rancher/k3s.
 */
const K3S: InstallProfile = {
  name: 'k3s',
  title: 'k3s (server/agent: kubelet, kube-proxy, flannel and containerd inside the k3s binary)',
  cni: { confDir: '/var/lib/rancher/k3s/agent/etc/cni/net.d', binDir: '/var/lib/rancher/k3s/data/current/bin', stateDir: '/var/lib/cni' },
  flannelSubnetEnv: '/run/flannel/subnet.env',
  certificates: ['/var/lib/rancher/k3s/server/tls/*.crt', '/var/lib/rancher/k3s/agent/client-kubelet.crt', '/var/lib/rancher/k3s/agent/serving-kubelet.crt'],
  kubeletClientCert: ['/var/lib/rancher/k3s/agent/client-kubelet.crt'],
  runtime: { sockets: ['/run/k3s/containerd/containerd.sock'], configs: ['/var/lib/rancher/k3s/agent/etc/containerd/config.toml'] },
  services: [
    { unit: 'k3s', process: ['k3s-server', 'k3s'], roles: ['control-plane'] },
    { unit: 'k3s-agent', process: ['k3s-agent', 'k3s'], roles: ['worker'] },
  ],
  kubeletLog: { units: ['k3s', 'k3s-agent'], files: ['/var/log/k3s.log', '/var/log/k3s-agent.log'] },
  kubeletProcess: K3S_OWNERS,
  ports: [
    { component: 'k3s server (kube-apiserver)', owners: K3S_OWNERS, roles: [...K8S_CP], ports: [{ from: 6443, to: 6443 }] },
    { component: 'kubelet (k3s)', owners: K3S_OWNERS, roles: [...ALL], ports: [{ from: 10250, to: 10250 }] },
  ],
  cluster: { kubeProxy: 'embedded', flannel: 'embedded', staticPods: false },
  markers: ['/var/lib/rancher/k3s', '/etc/rancher/k3s'],
};

/** minikube: kubeadm inside a VM or container, its certificates in /var/lib/minikube/certs. */
const MINIKUBE: InstallProfile = {
  ...KUBEADM,
  name: 'minikube',
  title: 'minikube (kubeadm inside a VM or container)',
  certificates: ['/var/lib/minikube/certs/*.crt', '/var/lib/minikube/certs/etcd/*.crt', '/var/lib/kubelet/pki/kubelet-client-current.pem'],
  markers: ['/var/lib/minikube'],
};

export const PROFILES: Record<ProfileName, InstallProfile> = { kubeadm: KUBEADM, binary: BINARY, k3s: K3S, minikube: MINIKUBE };

export function profileNamed(name: string): InstallProfile | undefined {
  return (PROFILES as Record<string, InstallProfile>)[name];
}

/** Every profile's value of a path list, once each: what the collector reads so any profile can be judged. */
export function allPaths(pick: (p: InstallProfile) => readonly string[]): string[] {
  return [...new Set(Object.values(PROFILES).flatMap(pick))];
}

/**
 * The profile of a host, from the layout markers present and the processes running: k3s and minikube
 * mark themselves; a binary install has its certificates in /etc/kubernetes/cert or its components as
 * units; anything else (a bare host before install included) is judged as kubeadm would set it up.
 */
export function detectHostProfile(present: ReadonlySet<string>, processes: readonly string[]): { profile: InstallProfile; why: string } {
  const marked = (p: InstallProfile) => p.markers.find((m) => present.has(m));
  if (processes.some((c) => K3S_OWNERS.includes(c))) return { profile: K3S, why: `process ${processes.find((c) => K3S_OWNERS.includes(c))}` };
  for (const p of [K3S, MINIKUBE, BINARY]) {
    const m = marked(p);
    if (m) return { profile: p, why: m };
  }
  const m = marked(KUBEADM);
  return { profile: KUBEADM, why: m ?? 'no other install found (default)' };
}

/** What flannel's CNI config chains: its own plugin, which delegates to bridge and host-local, and loopback and portmap. */
export const FLANNEL_CNI_PLUGINS = ['flannel', 'bridge', 'host-local', 'loopback', 'portmap'];

/**
 * The CNI a host runs, from the plugin types of its CNI configs (in the order the runtime reads them):
 * flannel when any config is flannel's (another CNI's config sorting first is then a leftover, which
 * cni.config reports), else the first config's main plugin, or `none` when there is no config yet.
 */
export function detectCni(configTypes: readonly string[][]): string {
  if (configTypes.some((t) => t.includes('flannel'))) return 'flannel';
  const first = configTypes.find((t) => t.length > 0);
  if (!first) return 'none';
  const known = ['calico', 'cilium', 'weave-net', 'kindnet', 'antrea', 'kube-ovn', 'ptp', 'bridge'];
  return first.find((t) => known.includes(t)) ?? first[0];
}

/** Whether flannel's checks apply: the host runs flannel, or has no CNI config yet (flannel is kubecheck's default). */
export const runsFlannel = (cni: string) => cni === 'flannel' || cni === 'none';

/** What the cluster's objects say about how it was built (read from its snapshot). */
export interface ClusterSignals {
  nodes: { labels: Record<string, string>; annotations: Record<string, string>; kubeletVersion: string }[];
  daemonSets: { namespace: string; name: string; labels: Record<string, string> }[];
  /** kube-system has static control-plane pods (kube-apiserver-NODE, mirror pods). */
  staticControlPlane: boolean;
  /** kube-system/kubeadm-config exists. */
  kubeadmConfig: boolean;
}

/**
 * The cluster's profile and CNI from its nodes and objects: k3s and minikube label their nodes; kubeadm
 * leaves kubeadm-config and static control-plane pods; a cluster with neither is a binary install.
 */
export function detectClusterProfile(s: ClusterSignals): { name: ProfileName; cni: string; why: string } {
  const ds = (pattern: RegExp) => s.daemonSets.find((d) => pattern.test(d.name));
  const annotated = (prefix: string) => s.nodes.some((n) => Object.keys(n.annotations).some((k) => k.startsWith(prefix)));
  const cni = ds(/^kube-flannel/) || annotated('flannel.alpha.coreos.com/') ? 'flannel'
    : ds(/^calico-node$/) || annotated('projectcalico.org/') ? 'calico'
    : ds(/^cilium$/) || annotated('network.cilium.io/') ? 'cilium'
    : ds(/^(weave-net|kindnet|antrea-agent|kube-ovn-cni)$/)?.name.replace(/-(agent|cni)$/, '') ?? 'unknown';
  const k3s = s.nodes.find((n) => /\+k3s/.test(n.kubeletVersion) || n.labels['node.kubernetes.io/instance-type'] === 'k3s');
  if (k3s) return { name: 'k3s', cni, why: `kubelet ${k3s.kubeletVersion}` };
  if (s.nodes.some((n) => 'minikube.k8s.io/name' in n.labels)) return { name: 'minikube', cni, why: 'nodes labelled minikube.k8s.io/name' };
  if (s.kubeadmConfig || s.staticControlPlane) return { name: 'kubeadm', cni, why: s.kubeadmConfig ? 'kube-system/kubeadm-config' : 'static control-plane pods' };
  return { name: 'binary', cni, why: 'no kubeadm-config and no static control-plane pods' };
}
