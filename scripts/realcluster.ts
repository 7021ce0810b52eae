// A real Kubernetes cluster on this machine, built the install guides' way: test hosts (their own network,
// mount, UTS and PID namespaces) running Debian's containerd + runc and the real kubelet; `kubeadm init` on
// cp1 (the control plane as static pods, images from the local mirror) and `kubeadm join` on the workers;
// kube-proxy and CoreDNS as kubeadm deploys them; flannel from the upstream kube-flannel.yml (VXLAN over
// the test bridge). Images are built here and pulled through a real registry on the test network, as an
// air-gapped site pulls through its mirror.
//
//   node dist/scripts/realcluster.js up      # build what is missing, start it, print kubeconfig= and inventory=
//   node dist/scripts/realcluster.js down    # stop everything and remove what it made
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { $ } from 'zx';
import { parseAllDocuments } from 'yaml';
import { assetPath } from '../src/core/assets.js';
import { ApiError, KubeApi } from '../src/k8s/api.js';
import { BIN_DIR, K8S_VERSION, buildControlPlane } from './controlplane.js';
import { ETCD_TAG, PAUSE_TAG, buildClusterImages, pushClusterImages, registryBinary, waitForRegistry, writeRegistryConfig } from './cluster-images.js';
import { CNI_PLUGINS, FLANNEL_CNI_VERSION, FLANNEL_VERSION, NODE_BIN_DIR, buildNodeBinaries } from './node-binaries.js';
import { containerdConfig, place, systemdUnits } from './node-layout.js';
import { type HostNetwork, type TestFleet, type TestHost, createHosts, destroyHosts } from './testhosts.js';

export const REAL_NETWORK: HostNetwork = { dir: '/tmp/kubecheck-realcluster', bridge: 'kcbr1', subnet: '10.214.0', netnsPrefix: 'kcr-', veth: 'kr' };
const MIRROR_IP = `${REAL_NETWORK.subnet}.2`;
/** The local registry, as nodes and `--image-registry` name it. */
export const REGISTRY = `${MIRROR_IP}:5000`;
export const IMAGE_REPOSITORY = `${REGISTRY}/kubernetes`;
export const POD_CIDR = '10.244.0.0/16';
export const SERVICE_CIDR = '10.96.0.0/12';
/** cp1 runs the control plane (and no faults); the workers are where tests break things. */
export const NODE_NAMES = ['cp1', 'w1', 'w2'];
const STATE = join(REAL_NETWORK.dir, 'realcluster.json');
const MIRROR_NETNS = `${REAL_NETWORK.netnsPrefix}mirror`;

const sh = $({ quiet: true, timeout: '10m' });
const shNothrow = $({ quiet: true, nothrow: true, timeout: '2m' });

function log(msg: string): void {
  process.stderr.write(`[realcluster] ${msg}\n`);
}

export interface RealNode extends TestHost {
  role: 'control-plane' | 'worker';
}

export interface RealCluster {
  dir: string;
  kubeconfig: string;
  inventory: string;
  registry: string;
  fleet: TestFleet;
  nodes: RealNode[];
  /** Kernel settings the kubelets change (they are global, not per namespace), restored by down. */
  tunables: Record<string, string>;
  /** How long each stage of `up` took, for BENCHMARKS.md. */
  timings: Record<string, number>;
}

/** Builds every binary and image the cluster needs (cached; only what is missing is built). */
export async function buildRealCluster(): Promise<void> {
  await buildControlPlane();
  await buildNodeBinaries();
  await buildClusterImages();
}

// ---- node layout: what a kubeadm install guide puts on a host before `kubeadm init/join` ----

/** Kernel settings the kubelet sets on start (setupKernelTunables): global, so saved and put back. */
const TUNABLES = ['vm/overcommit_memory', 'vm/panic_on_oom', 'kernel/panic', 'kernel/panic_on_oops', 'kernel/keys/root_maxkeys', 'kernel/keys/root_maxbytes'];

function readTunables(): Record<string, string> {
  return Object.fromEntries(TUNABLES.map((k) => [k, readFileSync(`/proc/sys/${k}`, 'utf8').trim()]));
}

function restoreTunables(saved: Record<string, string>): void {
  for (const [k, v] of Object.entries(saved)) {
    try {
      writeFileSync(`/proc/sys/${k}`, v);
    } catch {
      // A kernel that refuses a value it had before: nothing better to do than leave it.
    }
  }
}

const CGROUP_ROOT = '/sys/fs/cgroup';
/** Each kubelet gets a cgroup root of its own (`--cgroup-root=/kc-NAME`), so two never share /kubepods. */
const cgroupRoot = (node: string) => `/kc-${node}`;

function cgroupControllers(): string[] {
  return readdirSync(CGROUP_ROOT).filter((c) => c !== 'unified' && existsSync(join(CGROUP_ROOT, c, 'cgroup.procs')));
}

function makeCgroupRoot(node: string): void {
  for (const c of cgroupControllers()) {
    const dir = join(CGROUP_ROOT, c, cgroupRoot(node));
    mkdirSync(dir, { recursive: true });
    if (c === 'cpuset') {
      for (const f of ['cpuset.cpus', 'cpuset.mems']) writeFileSync(join(dir, f), readFileSync(join(CGROUP_ROOT, c, f), 'utf8'));
    }
  }
}

/** Removes a node's cgroups, deepest first (they are empty once the host's processes are gone). */
async function removeCgroupRoot(node: string): Promise<void> {
  for (const c of cgroupControllers()) {
    const dir = join(CGROUP_ROOT, c, cgroupRoot(node));
    if (existsSync(dir)) await shNothrow`find ${dir} -depth -type d -exec rmdir {} ;`;
  }
}

/** A hard link (same filesystem) or a copy: binaries are big, and each host needs its own entry. */
const UNIT_KUBELET = `# kubelet, started the way kubeadm's systemd drop-in (10-kubeadm.conf) starts it.
KUBELET_KUBECONFIG_ARGS="--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
KUBELET_CONFIG_ARGS="--config=/var/lib/kubelet/config.yaml"
KUBELET_KUBEADM_ARGS=
KUBELET_EXTRA_ARGS=
[ -f /var/lib/kubelet/kubeadm-flags.env ] && . /var/lib/kubelet/kubeadm-flags.env
[ -f /etc/default/kubelet ] && . /etc/default/kubelet
exec /usr/local/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
`;
const UNIT_CONTAINERD = 'exec /usr/bin/containerd --config /etc/containerd/config.toml\n';

/** What every node gets before kubeadm: binaries, base CNI plugins, containerd config and mirror, units. */
function layoutNode(h: TestHost): void {
  const d = h.dir;
  for (const b of ['kubelet', 'crictl']) place(join(NODE_BIN_DIR, b), join(d, 'usr-local-bin', b));
  place(join(BIN_DIR, 'kubeadm'), join(d, 'usr-local-bin', 'kubeadm'));
  for (const p of CNI_PLUGINS) place(join(NODE_BIN_DIR, p), join(d, 'opt-cni-bin', p));
  writeFileSync(join(d, 'etc-containerd', 'config.toml'), containerdConfig({ systemdCgroup: false, sandboxImage: `${IMAGE_REPOSITORY}/pause:${PAUSE_TAG}` }));
  const hostsDir = join(d, 'etc-containerd', 'certs.d', REGISTRY);
  mkdirSync(hostsDir, { recursive: true });
  writeFileSync(join(hostsDir, 'hosts.toml'), `server = "http://${REGISTRY}"\n\n[host."http://${REGISTRY}"]\n  capabilities = ["pull", "resolve"]\n`);
  mkdirSync(join(d, 'units'), { recursive: true });
  writeFileSync(join(d, 'units', 'kubelet'), UNIT_KUBELET);
  writeFileSync(join(d, 'units', 'containerd'), UNIT_CONTAINERD);
  systemdUnits(d);
}

const NODE_MOUNTS: Record<string, string> = {
  'var-lib-containerd': '/var/lib/containerd',
  'etc-containerd': '/etc/containerd',
  'var-lib-etcd': '/var/lib/etcd',
  'var-log': '/var/log',
  'usr-local-bin': '/usr/local/bin',
  'etc-systemd-system': '/etc/systemd/system',
  units: '/etc/kubecheck-units',
};

// ---- kubeadm ----

function kubeadmInitConfig(cp: TestHost, token: string): string {
  return `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
bootstrapTokens:
- token: ${token}
  ttl: 24h0m0s
  usages: [signing, authentication]
  groups: [system:bootstrappers:kubeadm:default-node-token]
localAPIEndpoint:
  advertiseAddress: ${cp.ip}
  bindPort: 6443
nodeRegistration:
  name: ${cp.name}
  criSocket: unix:///run/containerd/containerd.sock
  kubeletExtraArgs:
  - {name: cgroup-root, value: ${cgroupRoot(cp.name)}}
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
clusterName: kubecheck-real
kubernetesVersion: ${K8S_VERSION}
imageRepository: ${IMAGE_REPOSITORY}
controlPlaneEndpoint: ${cp.ip}:6443
networking:
  podSubnet: ${POD_CIDR}
  serviceSubnet: ${SERVICE_CIDR}
  dnsDomain: cluster.local
etcd:
  local:
    imageTag: ${ETCD_TAG}
    extraArgs:
    - {name: unsafe-no-fsync, value: "true"}
controllerManager:
  extraArgs:
  # Nodes whose kubelet stops turn NotReady after 20 s instead of 50 s, so the doctor tests wait less.
  - {name: node-monitor-grace-period, value: 20s}
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# No systemd here: both the kubelet and containerd use cgroupfs.
cgroupDriver: cgroupfs
---
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
conntrack:
  # nf_conntrack_max is not writable from a network namespace (kind sets the same).
  maxPerCore: 0
`;
}

function kubeadmJoinConfig(node: TestHost, cp: TestHost, token: string, caHash: string): string {
  return `apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
discovery:
  bootstrapToken:
    apiServerEndpoint: ${cp.ip}:6443
    token: ${token}
    caCertHashes: [${caHash}]
nodeRegistration:
  name: ${node.name}
  criSocket: unix:///run/containerd/containerd.sock
  kubeletExtraArgs:
  - {name: cgroup-root, value: ${cgroupRoot(node.name)}}
`;
}

/** Runs a command inside a node's namespaces, with output kept in `logFile` (on this machine). */
async function inNode(h: TestHost, command: string, logFile?: string, timeout: `${number}m` = '10m') {
  const cmd = logFile ? `${command} >${logFile} 2>&1` : command;
  return $({ quiet: true, nothrow: true, timeout })`nsenter -t ${h.pid} -m -u -n -p -i sh -c ${cmd}`;
}

/** sha256 of the CA's public key (SubjectPublicKeyInfo), as `kubeadm join --discovery-token-ca-cert-hash` wants it. */
async function caCertHash(caFile: string): Promise<string> {
  const { createPublicKey } = await import('node:crypto');
  const der = createPublicKey(readFileSync(caFile)).export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(der).digest('hex')}`;
}

/** The upstream kube-flannel.yml from the flannel module, its images pointed at the mirror. */
async function flannelManifest(): Promise<string> {
  const modcache = (await sh`go env GOMODCACHE`).stdout.trim();
  const file = join(modcache, `github.com/flannel-io/flannel@${FLANNEL_VERSION}`, 'Documentation', 'kube-flannel.yml');
  if (!existsSync(file)) await $({ quiet: true, env: { ...process.env, GOFLAGS: '-mod=mod' } })`go mod download github.com/flannel-io/flannel@${FLANNEL_VERSION}`;
  return readFileSync(file, 'utf8')
    .replace(/ghcr\.io\/flannel-io\/flannel-cni-plugin:\S+/g, `${REGISTRY}/flannel-io/flannel-cni-plugin:${FLANNEL_CNI_VERSION}`)
    .replace(/ghcr\.io\/flannel-io\/flannel:\S+/g, `${REGISTRY}/flannel-io/flannel:${FLANNEL_VERSION}`)
    // The plugin built here (its last containernetworking/plugins release) speaks CNI up to 0.4.0.
    .replace('"cniVersion": "1.0.0"', '"cniVersion": "0.3.1"');
}

const API_PATHS: Record<string, (ns?: string) => string> = {
  Namespace: () => '/api/v1/namespaces',
  ServiceAccount: (ns) => `/api/v1/namespaces/${ns}/serviceaccounts`,
  ConfigMap: (ns) => `/api/v1/namespaces/${ns}/configmaps`,
  Pod: (ns) => `/api/v1/namespaces/${ns}/pods`,
  DaemonSet: (ns) => `/apis/apps/v1/namespaces/${ns}/daemonsets`,
  Deployment: (ns) => `/apis/apps/v1/namespaces/${ns}/deployments`,
  ClusterRole: () => '/apis/rbac.authorization.k8s.io/v1/clusterroles',
  ClusterRoleBinding: () => '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
  Role: (ns) => `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles`,
  RoleBinding: (ns) => `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`,
};

/** Creates every object of a multi-document manifest (like `kubectl create -f`). */
export async function createManifest(api: KubeApi, text: string): Promise<void> {
  for (const doc of parseAllDocuments(text)) {
    const obj = doc.toJSON() as { kind?: string; metadata?: { namespace?: string } } | null;
    if (!obj?.kind) continue;
    const path = API_PATHS[obj.kind];
    if (!path) throw new Error(`createManifest: no API path for kind ${obj.kind}`);
    await api.send('POST', path(obj.metadata?.namespace), obj);
  }
}

/** Deletes every object of a multi-document manifest by name (like `kubectl delete -f`); already gone is fine. */
export async function deleteManifest(api: KubeApi, text: string): Promise<void> {
  for (const doc of parseAllDocuments(text)) {
    const obj = doc.toJSON() as { kind?: string; metadata?: { name?: string; namespace?: string } } | null;
    if (!obj?.kind || !obj.metadata?.name) continue;
    const path = API_PATHS[obj.kind];
    if (!path) throw new Error(`deleteManifest: no API path for kind ${obj.kind}`);
    await api.send('DELETE', `${path(obj.metadata.namespace)}/${obj.metadata.name}`, undefined).catch((err: unknown) => {
      if (!(err instanceof ApiError && err.status === 404)) throw err;
    });
  }
}

interface NodeObj { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }
interface WorkloadObj { status?: { numberReady?: number; desiredNumberScheduled?: number; availableReplicas?: number; replicas?: number } }

/** Waits until every node is Ready and flannel, kube-proxy and CoreDNS are ready everywhere (bounded). */
export async function waitForHealthy(api: KubeApi, nodes: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const problems: string[] = [];
    try {
      const list = await api.getJson<{ items: NodeObj[] }>('/api/v1/nodes');
      const ready = list.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
      if (list.items.length < nodes || ready < nodes) problems.push(`nodes ready ${ready}/${nodes} (registered ${list.items.length})`);
      for (const [what, path] of [['kube-flannel', '/apis/apps/v1/namespaces/kube-flannel/daemonsets/kube-flannel-ds'], ['kube-proxy', '/apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy']]) {
        const ds = await api.getJson<WorkloadObj>(path).catch(() => undefined);
        if (!ds || (ds.status?.numberReady ?? 0) < nodes) problems.push(`${what} ready ${ds?.status?.numberReady ?? 0}/${nodes}`);
      }
      const dns = await api.getJson<WorkloadObj>('/apis/apps/v1/namespaces/kube-system/deployments/coredns').catch(() => undefined);
      if (!dns || (dns.status?.availableReplicas ?? 0) < (dns.status?.replicas ?? 1)) problems.push(`coredns available ${dns?.status?.availableReplicas ?? 0}/${dns?.status?.replicas ?? '?'}`);
    } catch (err: unknown) {
      problems.push(`API: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (problems.length === 0) return;
    const now = problems.join('; ');
    if (now !== last) log(`waiting: ${now}`);
    last = now;
    if (Date.now() > deadline) throw new Error(`the real cluster did not become healthy within ${timeoutMs / 1000} s: ${now}${await apiDiagnosis()}`);
    await new Promise((r) => setTimeout(r, 2000));
  }
}

/** What answers on cp1's API port and how its apiserver container is, for a failure message. */
async function apiDiagnosis(): Promise<string> {
  const state = readState();
  const cp = state?.nodes.find((n) => n.role === 'control-plane');
  if (!cp) return '';
  const served = await shNothrow`sh -c ${`openssl s_client -connect ${cp.ip}:6443 </dev/null 2>/dev/null | openssl x509 -noout -subject -issuer -enddate`}`;
  const containers = await inNode(cp, 'crictl --runtime-endpoint unix:///run/containerd/containerd.sock ps -a 2>&1 | head -20', undefined, '1m');
  return `\n  cp1:6443 serves: ${served.stdout.trim().replace(/\n/g, '; ') || served.stderr.trim() || 'nothing'}\n  cp1 containers:\n${containers.stdout.trim()}`;
}

// ---- up / down ----

async function startMirror(): Promise<void> {
  const v = REAL_NETWORK.veth;
  await sh`ip netns add ${MIRROR_NETNS}`;
  await sh`ip link add ${`${v}v0`} type veth peer name ${`${v}e0`}`;
  await sh`ip link set ${`${v}v0`} master ${REAL_NETWORK.bridge} up`;
  await sh`ip link set ${`${v}e0`} netns ${MIRROR_NETNS}`;
  await sh`ip -n ${MIRROR_NETNS} link set ${`${v}e0`} name eth0`;
  await sh`ip -n ${MIRROR_NETNS} addr add ${`${MIRROR_IP}/24`} dev eth0`;
  await sh`ip -n ${MIRROR_NETNS} link set eth0 up`;
  await sh`ip -n ${MIRROR_NETNS} link set lo up`;
  const config = writeRegistryConfig(REAL_NETWORK.dir, REGISTRY);
  const logFile = join(REAL_NETWORK.dir, 'registry.log');
  await sh`setsid sh -c ${`ip netns exec ${MIRROR_NETNS} ${registryBinary()} serve ${config} >${logFile} 2>&1 </dev/null &`}`;
  await waitForRegistry(REGISTRY);
}

function readState(): RealCluster | undefined {
  return existsSync(STATE) ? (JSON.parse(readFileSync(STATE, 'utf8')) as RealCluster) : undefined;
}

/** Brings the cluster up from nothing (removing an earlier one first) and returns where to reach it. */
export async function upRealCluster(): Promise<RealCluster> {
  const timings: Record<string, number> = {};
  const stage = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    const out = await run();
    timings[name] = Math.round((Date.now() - started) / 100) / 10;
    log(`${name}: ${timings[name]} s`);
    return out;
  };
  await stage('build (cached)', buildRealCluster);
  await downRealCluster();
  const tunables = readTunables();
  const dir = REAL_NETWORK.dir;
  const fleet = await stage('hosts', async () => {
    const f = await createHosts(REAL_NETWORK, NODE_NAMES, {
      mounts: NODE_MOUNTS,
      runtimeStandIn: false,
      defaultRoute: true,
      hostsEntries: [`${MIRROR_IP} mirror`],
      // Nothing on the test network answers DNS; pods' and CoreDNS's upstream must not leave it.
      resolvConf: `nameserver ${REAL_NETWORK.subnet}.1\n`,
    });
    copyFileSync(assetPath('scripts/realcluster/kc-service.sh'), join(dir, 'bin', 'kc-service'));
    chmodSync(join(dir, 'bin', 'kc-service'), 0o755);
    return f;
  });
  const nodes: RealNode[] = fleet.hosts.map((h) => ({ ...h, role: h.name === 'cp1' ? 'control-plane' : 'worker' }));
  const state: RealCluster = { dir, kubeconfig: join(dir, 'admin.kubeconfig'), inventory: join(dir, 'inventory.yaml'), registry: REGISTRY, fleet, nodes, tunables, timings };
  writeFileSync(STATE, JSON.stringify(state, null, 2));

  await stage('registry and images', async () => {
    await startMirror();
    await pushClusterImages(await buildClusterImages(), REGISTRY);
  });

  await stage('containerd', async () => {
    for (const n of nodes) {
      layoutNode(n);
      makeCgroupRoot(n.name);
      await inNode(n, `${join(dir, 'bin', 'kc-service')} start containerd && ${join(dir, 'bin', 'kc-service')} start kubelet`);
    }
    for (const n of nodes) await waitForSocket(n, '/run/containerd/containerd.sock');
  });

  const cp = nodes[0];
  const token = `${randomBytes(3).toString('hex')}.${randomBytes(8).toString('hex')}`;
  await stage('kubeadm init', async () => {
    writeFileSync(join(cp.dir, 'etc-kubernetes', 'kubeadm-init.yaml'), kubeadmInitConfig(cp, token));
    const out = await inNode(cp, 'kubeadm init --config /etc/kubernetes/kubeadm-init.yaml --ignore-preflight-errors=all', join(dir, 'kubeadm-init.log'), '6m');
    if (out.exitCode !== 0) throw new Error(`kubeadm init failed on ${cp.name} (exit ${out.exitCode}): ${tail(join(dir, 'kubeadm-init.log'))}`);
    copyFileSync(join(cp.dir, 'etc-kubernetes', 'admin.conf'), state.kubeconfig);
  });
  const caHash = await caCertHash(join(cp.dir, 'etc-kubernetes', 'pki', 'ca.crt'));
  await stage('kubeadm join', async () => {
    await Promise.all(nodes.slice(1).map(async (n) => {
      writeFileSync(join(n.dir, 'etc-kubernetes', 'kubeadm-join.yaml'), kubeadmJoinConfig(n, cp, token, caHash));
      const logFile = join(dir, `kubeadm-join-${n.name}.log`);
      const out = await inNode(n, 'kubeadm join --config /etc/kubernetes/kubeadm-join.yaml --ignore-preflight-errors=all', logFile, '6m');
      if (out.exitCode !== 0) throw new Error(`kubeadm join failed on ${n.name} (exit ${out.exitCode}): ${tail(logFile)}`);
    }));
  });
  const api = await KubeApi.connect({ kubeconfig: state.kubeconfig });
  await stage('flannel', async () => createManifest(api, await flannelManifest()));
  await stage('ready', () => waitForHealthy(api, nodes.length, 6 * 60_000));
  writeInventory(state);
  writeFileSync(STATE, JSON.stringify(state, null, 2));
  return state;
}

function tail(file: string, lines = 15): string {
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n') : '(no log)';
}

async function waitForSocket(h: TestHost, socket: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await inNode(h, `test -S ${socket}`)).ok) {
    if (Date.now() > deadline) throw new Error(`${socket} did not appear on ${h.name}: ${tail(join(h.dir, 'var-log', 'containerd.log'))}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A kubecheck inventory of the real nodes, roles included. */
function writeInventory(c: RealCluster): void {
  writeFileSync(c.inventory, [
    `defaults: {user: root, identityFile: ${c.fleet.key}, knownHostsFile: ${c.fleet.knownHosts}, hostKeyPolicy: strict}`,
    'nodes:',
    ...c.nodes.map((n) => `  - {name: ${n.name}, host: ${n.ip}, roles: [${n.role === 'control-plane' ? 'control-plane, etcd' : 'worker'}]}`),
    '',
  ].join('\n'));
}

/** Stops everything `up` started and removes what it made: hosts, mirror, cgroups; kernel settings restored. */
export async function downRealCluster(): Promise<void> {
  const state = readState();
  await destroyHosts(REAL_NETWORK);
  for (const name of NODE_NAMES) await removeCgroupRoot(name);
  if (state?.tunables) restoreTunables(state.tunables);
}

/** The running cluster when it is healthy, else a new one: test files share one cluster. */
export async function ensureRealCluster(): Promise<RealCluster> {
  const state = readState();
  if (state && existsSync(state.inventory)) {
    try {
      const api = await KubeApi.connect({ kubeconfig: state.kubeconfig });
      // A test file that just repaired a node may leave it a little while to settle.
      await waitForHealthy(api, state.nodes.length, 60_000);
      return state;
    } catch {
      log('the running cluster is not healthy: starting a new one');
    }
  }
  return upRealCluster();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [command] = process.argv.slice(2);
  if (command === 'up') {
    const c = await upRealCluster();
    console.log(`kubeconfig=${c.kubeconfig}`);
    console.log(`inventory=${c.inventory}`);
  } else if (command === 'down') {
    await downRealCluster();
    console.log('real cluster removed');
  } else if (command === 'build') {
    await buildRealCluster();
    console.log('real cluster binaries and images built');
  } else {
    console.error('usage: realcluster.js up | down | build');
    process.exitCode = 2;
  }
}

// ---- faults for tests and benchmarks: each breaks the real thing the way it breaks on real hosts ----

/** The faults the real-node tests inject, named after the doctor cause each should lead to. */
export type RealFault =
  | 'runtime-down' | 'kubelet-down' | 'cni-plugin-missing' | 'cni-config-missing' | 'flannel-subnet-missing'
  | 'cni0-ip-conflict' | 'swap-enabled' | 'cgroup-driver-mismatch' | 'certificate-expired';

/** The address cni0 gets for the cni0-ip-conflict fault: a subnet no node has. */
export const FOREIGN_CNI0 = '10.244.99.1/24';

/** Runs a command inside a node and fails with its output when it fails. */
export async function onNode(node: TestHost, command: string): Promise<string> {
  const out = await inNode(node, command, undefined, '2m');
  if (out.exitCode !== 0) throw new Error(`on ${node.name}: ${command}: exit ${out.exitCode}: ${(out.stderr || out.stdout).trim()}`);
  return out.stdout;
}

/** Starts, stops or restarts a node's containerd or kubelet (kc-service, the hosts' stand-in for systemctl). */
export async function service(node: TestHost, action: 'start' | 'stop' | 'restart', unit: 'kubelet' | 'containerd'): Promise<void> {
  await onNode(node, `${join(REAL_NETWORK.dir, 'bin', 'kc-service')} ${action} ${unit}`);
}

const SWAPS_HEADER = 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n';

/** The node's kubelet client certificate file (what kubelet-client-current.pem links to). */
function kubeletClientCert(node: TestHost): string {
  const pki = join(node.dir, 'var-lib-kubelet', 'pki');
  const current = readdirSync(pki).filter((f) => /^kubelet-client-\d.*\.pem$/.test(f)).sort().pop();
  if (!current) throw new Error(`${node.name} has no kubelet client certificate in ${pki}`);
  return join(pki, current);
}

/**
 * A client certificate for system:node:NAME, signed by the cluster CA, that expired yesterday (valid
 * from two days ago): what a node that was off for longer than its certificate's life comes back with.
 */
async function expiredNodeCert(c: RealCluster, node: TestHost): Promise<string> {
  const work = join(c.dir, `expired-${node.name}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const pki = join(c.nodes[0].dir, 'etc-kubernetes', 'pki');
  writeFileSync(join(work, 'index.txt'), '');
  writeFileSync(join(work, 'serial'), '1000\n');
  writeFileSync(join(work, 'ca.cnf'), `[ca]\ndefault_ca = kc\n[kc]\ndir = ${work}\ndatabase = ${work}/index.txt\nnew_certs_dir = ${work}\nserial = ${work}/serial\nprivate_key = ${pki}/ca.key\ncertificate = ${pki}/ca.crt\ndefault_md = sha256\npolicy = any\nunique_subject = no\n[any]\ncommonName = supplied\norganizationName = optional\n`);
  const o = $({ quiet: true, cwd: work });
  await o`openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout key.pem -out req.csr -subj ${`/O=system:nodes/CN=system:node:${node.name}`}`;
  const stamp = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
  await o`openssl ca -batch -config ca.cnf -in req.csr -out cert.pem -startdate ${stamp(2)} -enddate ${stamp(1)} -notext`;
  return readFileSync(join(work, 'cert.pem'), 'utf8') + readFileSync(join(work, 'key.pem'), 'utf8');
}

/** Breaks one thing on a worker. Faults that only show when a pod starts need a pod scheduled there afterwards. */
export async function breakNode(c: RealCluster, node: RealNode, fault: RealFault): Promise<void> {
  if (node.role === 'control-plane') throw new Error('faults go on workers: cp1 runs the control plane');
  const d = node.dir;
  switch (fault) {
    case 'runtime-down': return service(node, 'stop', 'containerd');
    case 'kubelet-down': return service(node, 'stop', 'kubelet');
    case 'cni-plugin-missing': return rmSync(join(d, 'opt-cni-bin', 'flannel'), { force: true });
    case 'cni-config-missing': return rmSync(join(d, 'etc-cni-net.d', '10-flannel.conflist'), { force: true });
    case 'flannel-subnet-missing': return rmSync(join(d, 'run-flannel', 'subnet.env'), { force: true });
    case 'cni0-ip-conflict':
      // As a re-joined node has it: cni0 still carries an address of its earlier subnet.
      await onNode(node, `ip link show cni0 >/dev/null 2>&1 || { ip link add cni0 type bridge && ip link set cni0 up; }; ip addr flush dev cni0 && ip addr add ${FOREIGN_CNI0} dev cni0`);
      return;
    case 'swap-enabled':
      // Swap is global to the kernel; each host's /proc/swaps is its own file, which the kubelet reads at start.
      writeFileSync(join(d, 'swaps'), `${SWAPS_HEADER}/swapfile                               file\t\t2097148\t\t0\t\t-2\n`);
      return service(node, 'restart', 'kubelet');
    case 'cgroup-driver-mismatch': {
      const file = join(d, 'etc-containerd', 'config.toml');
      writeFileSync(file, readFileSync(file, 'utf8').replace('SystemdCgroup = false', 'SystemdCgroup = true'));
      return service(node, 'restart', 'containerd');
    }
    case 'certificate-expired': {
      const file = kubeletClientCert(node);
      copyFileSync(file, `${file}.kubecheck-good`);
      writeFileSync(file, await expiredNodeCert(c, node), { mode: 0o600 });
      return service(node, 'restart', 'kubelet');
    }
  }
}

/** Deletes the kube-flannel pod on a node so the DaemonSet starts a new one (its init containers rewrite the CNI files). */
export async function restartFlannel(api: KubeApi, node: string): Promise<void> {
  const pods = await api.getJson<{ items: { metadata: { name: string } }[] }>(`/api/v1/namespaces/kube-flannel/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${node}`)}`);
  for (const p of pods.items) await api.send('DELETE', `/api/v1/namespaces/kube-flannel/pods/${p.metadata.name}`, { gracePeriodSeconds: 0 });
}

/** Puts back what breakNode broke (the way an operator would), without waiting for the node to recover. */
export async function repairNode(api: KubeApi, node: RealNode, fault: RealFault): Promise<void> {
  const d = node.dir;
  switch (fault) {
    case 'runtime-down': return service(node, 'start', 'containerd');
    case 'kubelet-down': return service(node, 'start', 'kubelet');
    case 'cni-plugin-missing': return place(join(NODE_BIN_DIR, 'flannel'), join(d, 'opt-cni-bin', 'flannel'));
    case 'cni-config-missing':
    case 'flannel-subnet-missing': return restartFlannel(api, node.name);
    // Only while cni0 still has the foreign address (kubecheck fix cni0 may have repaired it): deleting a
    // good cni0 would cut every pod on the node off its network.
    case 'cni0-ip-conflict': await onNode(node, `if ip -4 -o addr show cni0 2>/dev/null | grep -q ' ${FOREIGN_CNI0} '; then ip link delete cni0; fi`); return;
    case 'swap-enabled': writeFileSync(join(d, 'swaps'), SWAPS_HEADER); return;
    case 'cgroup-driver-mismatch': {
      const file = join(d, 'etc-containerd', 'config.toml');
      writeFileSync(file, readFileSync(file, 'utf8').replace('SystemdCgroup = true', 'SystemdCgroup = false'));
      return service(node, 'restart', 'containerd');
    }
    case 'certificate-expired': {
      const file = kubeletClientCert(node);
      copyFileSync(`${file}.kubecheck-good`, file);
      rmSync(`${file}.kubecheck-good`, { force: true });
      return service(node, 'restart', 'kubelet');
    }
  }
}
