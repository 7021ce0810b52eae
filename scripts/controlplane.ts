// A real Kubernetes control plane on this machine for cluster tests: etcd, kube-apiserver,
// kube-controller-manager and kube-scheduler built from their Go modules (version-stamped, cached under
// the user's cache dir, rebuilt only when missing), with KWOK making nodes and pods report as running.
//
//   node dist/scripts/controlplane.js build         # build (or find) the binaries
//   node dist/scripts/controlplane.js up            # start a cluster, print the kubeconfig path
//   node dist/scripts/controlplane.js down          # stop it and remove its state
import { createHash, randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { $ } from 'zx';
import { parse as parseYaml } from 'yaml';
import { assetPath } from '../src/core/assets.js';
import { KubeApi } from '../src/k8s/api.js';

export const K8S_VERSION = process.env.KUBECHECK_K8S_VERSION ?? 'v1.33.13';
export const ETCD_VERSION = process.env.KUBECHECK_ETCD_VERSION ?? 'v3.5.35';
export const KWOK_VERSION = 'v0.8.0';
const STAGING_VERSION = K8S_VERSION.replace(/^v1\./, 'v0.');

const cacheRoot = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'kubecheck', 'controlplane');
export const BIN_DIR = join(cacheRoot, `${K8S_VERSION}-etcd${ETCD_VERSION}-kwok${KWOK_VERSION}`, 'bin');
export const CLUSTER_DIR = process.env.KUBECHECK_CLUSTER_DIR ?? '/tmp/kubecheck-cluster';

const K8S_COMMANDS = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubeadm'];
export const BINARIES = [...K8S_COMMANDS, 'etcd', 'kwok'];

const goEnv = { ...process.env, CGO_ENABLED: '0', GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod' };
const sh = $({ verbose: false, quiet: true, env: goEnv, timeout: '120m' });

function log(msg: string): void {
  process.stderr.write(`[controlplane] ${msg}\n`);
}

/** The staging modules k8s.io/kubernetes replaces with ./staging/… (left out of its module zip). */
async function stagingModules(): Promise<string[]> {
  const info = JSON.parse((await sh`go mod download -json k8s.io/kubernetes@${K8S_VERSION}`).stdout) as { GoMod: string };
  const gomod = readFileSync(info.GoMod, 'utf8');
  return [...gomod.matchAll(/^\s*(k8s\.io\/[\w.-]+)\s+=>\s+\.\/staging\//gm)].map((m) => m[1]);
}

/** The -ldflags that stamp a Kubernetes binary's version (else /version says v0.0.0-master). */
export function versionLdflags(): string {
  return ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version']
    .flatMap((pkg) => [`-X ${pkg}.gitVersion=${K8S_VERSION}`, `-X ${pkg}.gitMajor=1`, `-X ${pkg}.gitMinor=${K8S_VERSION.split('.')[1]}`, `-X ${pkg}.gitTreeState=clean`, `-X ${pkg}.buildDate=1970-01-01T00:00:00Z`])
    .join(' ');
}

/**
 * A wrapper module in `work` that requires k8s.io/kubernetes and replaces every staging module by its
 * published version (the k8s.io/kubernetes module zip leaves staging/ out). Returns `work`.
 */
export async function kubernetesWrapper(work: string, module: string): Promise<string> {
  mkdirSync(work, { recursive: true });
  if (existsSync(join(work, 'go.mod'))) return work;
  const staging = await stagingModules();
  writeFileSync(join(work, 'go.mod'), [
    `module ${module}`,
    '',
    'go 1.24',
    '',
    `require k8s.io/kubernetes ${K8S_VERSION}`,
    '',
    'replace (',
    ...staging.map((m) => `\t${m} => ${m} ${STAGING_VERSION}`),
    ')',
    '',
  ].join('\n'));
  return work;
}

async function buildKubernetes(): Promise<void> {
  if (K8S_COMMANDS.every((cmd) => existsSync(join(BIN_DIR, cmd)))) return;
  const work = await kubernetesWrapper(join(cacheRoot, `wrapper-${K8S_VERSION}`), 'kubecheck.local/controlplane');
  const ldflags = versionLdflags();
  for (const cmd of K8S_COMMANDS) {
    if (existsSync(join(BIN_DIR, cmd))) continue;
    log(`building ${cmd} ${K8S_VERSION} (the first build takes a while)…`);
    const started = Date.now();
    await sh({ cwd: work })`go build -trimpath -ldflags ${`-s -w ${ldflags}`} -o ${join(BIN_DIR, cmd)} k8s.io/kubernetes/cmd/${cmd}`;
    log(`built ${cmd} in ${Math.round((Date.now() - started) / 1000)} s`);
  }
}

/**
 * Builds a main package from a module that `go install pkg@version` refuses (its go.mod has replace
 * directives): a throwaway wrapper module requires it, so its replaces are ignored and its requires used.
 */
async function buildFromWrapper(name: string, module: string, version: string, pkg: string): Promise<void> {
  if (existsSync(join(BIN_DIR, name))) return;
  log(`building ${name} (${module}@${version})…`);
  const work = join(cacheRoot, `wrapper-${name}-${version}`);
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, 'go.mod'), `module kubecheck.local/${name}\n\ngo 1.24\n\nrequire ${module} ${version}\n`);
  await sh({ cwd: work })`go build -trimpath -ldflags=-s -o ${join(BIN_DIR, name)} ${pkg}`;
}

const STAGES_FILE = join(BIN_DIR, '..', 'kwok-stages.yaml');
const EXEC_CRD_FILE = join(BIN_DIR, '..', 'kwok-exec-crd.yaml');

/**
 * KWOK run on its own has no built-in Stages: take the "fast" node and pod stages and the lease heartbeat
 * from the KWOK module just downloaded, into the cache next to the binaries.
 */
async function collectKwokStages(): Promise<void> {
  if (existsSync(STAGES_FILE)) return;
  const modcache = (await sh`go env GOMODCACHE`).stdout.trim();
  const root = join(modcache, `sigs.k8s.io/kwok@${KWOK_VERSION}`, 'kustomize', 'stage');
  const files = ['node/fast/node-initialize.yaml', 'node/heartbeat-with-lease/node-heartbeat-with-lease.yaml', 'pod/fast/pod-ready.yaml', 'pod/fast/pod-complete.yaml', 'pod/fast/pod-delete.yaml'];
  writeFileSync(STAGES_FILE, files.map((f) => readFileSync(join(root, f), 'utf8').trim()).join('\n---\n') + '\n');
}

/** The Exec CRD from the KWOK module: KWOK serves per-pod exec answers from these objects (--enable-crds=Exec). */
async function collectKwokExecCrd(): Promise<void> {
  if (existsSync(EXEC_CRD_FILE)) return;
  const modcache = (await sh`go env GOMODCACHE`).stdout.trim();
  writeFileSync(EXEC_CRD_FILE, readFileSync(join(modcache, `sigs.k8s.io/kwok@${KWOK_VERSION}`, 'kustomize', 'crd', 'bases', 'kwok.x-k8s.io_execs.yaml'), 'utf8'));
}

/** Builds every binary that is missing from the cache; returns the folder that holds them. */
export async function buildControlPlane(): Promise<string> {
  mkdirSync(BIN_DIR, { recursive: true });
  await buildFromWrapper('etcd', 'go.etcd.io/etcd/server/v3', ETCD_VERSION, 'go.etcd.io/etcd/server/v3');
  await buildFromWrapper('kwok', 'sigs.k8s.io/kwok', KWOK_VERSION, 'sigs.k8s.io/kwok/cmd/kwok');
  await collectKwokStages();
  await buildKubernetes();
  for (const b of BINARIES) if (!existsSync(join(BIN_DIR, b))) throw new Error(`${b} is missing after the build`);
  return BIN_DIR;
}

// ---- Running a cluster ----

export interface Cluster {
  dir: string;
  kubeconfig: string;
  /** A kubeconfig of a user with no permissions but the ones given in tests. */
  server: string;
  pids: Record<string, number>;
  ports: { apiserver: number; etcd: number; etcdPeer: number; controllerManager: number; scheduler: number };
}

const PORTS = { apiserver: 6443, etcd: 2379, etcdPeer: 2380, controllerManager: 10257, scheduler: 10259, kwok: 10247 };
/** How long kwok-pods takes to bring a ConfigMap/Secret change into a pod's volume (a kubelet's sync). */
export const POD_VOLUME_SYNC_SECONDS = 3;

async function pki(dir: string): Promise<void> {
  const p = join(dir, 'pki');
  mkdirSync(p, { recursive: true });
  const o = $({ quiet: true, cwd: p });
  await o`openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 -subj /CN=kubecheck-test-ca`;
  writeFileSync(join(p, 'san.cnf'), '[ext]\nsubjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,IP:10.96.0.1\nextendedKeyUsage=serverAuth\n');
  await o`openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr -subj /CN=kube-apiserver`;
  await o`openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out apiserver.crt -days 365 -extfile san.cnf -extensions ext`;
  writeFileSync(join(p, 'client.cnf'), '[ext]\nextendedKeyUsage=clientAuth\n');
  for (const [name, subj] of [['admin', '/O=system:masters/CN=kubernetes-admin'], ['controller-manager', '/CN=system:kube-controller-manager'], ['scheduler', '/CN=system:kube-scheduler'], ['kwok', '/O=system:masters/CN=kwok-controller'], ['restricted', '/CN=kubecheck-restricted']]) {
    await o`openssl req -newkey rsa:2048 -nodes -keyout ${`${name}.key`} -out ${`${name}.csr`} -subj ${subj}`;
    await o`openssl x509 -req -in ${`${name}.csr`} -CA ca.crt -CAkey ca.key -CAcreateserial -out ${`${name}.crt`} -days 365 -extfile client.cnf -extensions ext`;
  }
  await o`openssl genrsa -out sa.key 2048`;
  await o`openssl rsa -in sa.key -pubout -out sa.pub`;
}

export function kubeconfigFor(dir: string, user: string): string {
  const p = join(dir, 'pki');
  const b64 = (f: string) => readFileSync(join(p, f)).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: kubecheck-test\n  cluster:\n    server: https://127.0.0.1:${PORTS.apiserver}\n    certificate-authority-data: ${b64('ca.crt')}`,
    'users:',
    `- name: ${user}\n  user:\n    client-certificate-data: ${b64(`${user}.crt`)}\n    client-key-data: ${b64(`${user}.key`)}`,
    'contexts:',
    `- name: ${user}@kubecheck-test\n  context:\n    cluster: kubecheck-test\n    user: ${user}`,
    `current-context: ${user}@kubecheck-test`,
    '',
  ].join('\n');
}

function start(dir: string, name: string, bin: string, args: string[], env?: NodeJS.ProcessEnv): ChildProcess {
  writeFileSync(join(dir, `${name}.cmd.json`), JSON.stringify([bin, ...args]));
  const out = openSync(join(dir, `${name}.log`), 'a');
  const child = spawn(bin, args, { stdio: ['ignore', out, out], detached: true, ...(env ? { env } : {}) });
  child.unref();
  writeFileSync(join(dir, `${name}.pid`), String(child.pid));
  return child;
}

/** Stops one component (a fault for tests: the scheduler or controller-manager going down). */
export function stopComponent(name: string, dir = CLUSTER_DIR): void {
  const pid = componentPid(dir, name);
  if (!pid || !killComponent(pid, name)) throw new Error(`${name} is not running (pid file: ${pid ?? 'none'})`);
  rmSync(join(dir, `${name}.pid`), { force: true });
}

/**
 * Kills `pid` only if it still is the component (its comm, cut at 15 characters by the kernel): a pid
 * file that outlived its process may name someone else's process by now. Returns whether it killed.
 */
function isComponent(pid: number, name: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === name.slice(0, 15);
  } catch {
    return false;
  }
}

function killComponent(pid: number, name: string): boolean {
  if (!isComponent(pid, name)) return false;
  try {
    process.kill(pid, 'SIGKILL');
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts a component again with the command line it was first started with, and makes sure it stays up:
 * right after a kill its port may still be held for a moment, and a component that exits on "address in
 * use" would leave a pid file naming a process that is gone. Tries up to 5 times, 1 s apart.
 */
export async function restartComponent(name: string, dir = CLUSTER_DIR): Promise<void> {
  const [bin, ...args] = JSON.parse(readFileSync(join(dir, `${name}.cmd.json`), 'utf8')) as string[];
  for (let attempt = 1; attempt <= 5; attempt++) {
    const child = start(dir, name, bin, args);
    await new Promise((r) => setTimeout(r, 1000));
    if (child.pid !== undefined && isComponent(child.pid, name)) return;
  }
  throw new Error(`${name} does not stay up after a restart: see ${join(dir, `${name}.log`)}`);
}

export function componentPid(dir: string, name: string): number | undefined {
  const f = join(dir, `${name}.pid`);
  return existsSync(f) ? Number(readFileSync(f, 'utf8')) : undefined;
}

async function waitFor(what: string, ms: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not become ready within ${ms / 1000} s`);
}

const curl = $({ quiet: true, nothrow: true, timeout: '5s' });

export const KWOK_STAGES = ['node-fast', 'pod-ready', 'pod-complete', 'pod-delete', 'node-heartbeat-with-lease'];

/**
 * Leader election for the benchmarks at scale: one controller-manager and one scheduler, each holding its
 * lease; with the default 10 s to renew, a 2-core machine deleting 5,000 pods answered a renewal too late
 * and the scheduler exited ("Leaderelection lost"), with no other instance to take over. Tests keep the
 * defaults (15 s leases: a stopped scheduler's lease goes stale, and a restarted one leads, in seconds).
 */
const STEADY_LEADERS = ['--leader-elect-lease-duration=60s', '--leader-elect-renew-deadline=45s', '--leader-elect-retry-period=5s'];

/** Starts etcd, the apiserver, controller-manager, scheduler and kwok on 127.0.0.1. */
export async function startCluster(options: {
  binDir?: string;
  /** More KWOK configuration (e.g. a ClusterExec for the benchmarks), appended to its stages. */
  kwokConfig?: string;
  /** A folder put first on KWOK's PATH: the commands its exec emulation runs are looked up there first. */
  kwokPath?: string;
  /**
   * How long a node may go without a heartbeat before it turns NotReady (default 20 s, so tests wait
   * less). On 2 cores KWOK cannot renew thousands of leases that often: the large benchmarks give more.
   */
  nodeMonitorGracePeriod?: string;
  /**
   * The lease KWOK's nodes hold (default 40 s, the kubelet's; each renews at a quarter of it). 5,000 nodes
   * renewing every 10 s keep this machine's 2 cores ~70 % busy at rest: the in-cluster benchmark, which
   * measures kubecheck and not heartbeats, gives its nodes a longer lease (and the grace period with it).
   */
  nodeLeaseDurationSeconds?: number;
  /** Longer leader leases for the controller-manager and the scheduler (STEADY_LEADERS). */
  steadyLeaders?: boolean;
} = {}): Promise<Cluster> {
  const leaders = options.steadyLeaders ? STEADY_LEADERS : [];
  const bin = options.binDir ?? BIN_DIR;
  for (const b of BINARIES) if (!existsSync(join(bin, b))) throw new Error(`${join(bin, b)} is missing: run \`node dist/scripts/controlplane.js build\``);
  if (!existsSync(STAGES_FILE)) await collectKwokStages();
  if (!existsSync(EXEC_CRD_FILE)) await collectKwokExecCrd();
  await stopCluster();
  const dir = CLUSTER_DIR;
  mkdirSync(dir, { recursive: true });
  await pki(dir);
  const p = (f: string) => join(dir, 'pki', f);
  for (const user of ['admin', 'controller-manager', 'scheduler', 'kwok', 'restricted']) writeFileSync(join(dir, `${user}.kubeconfig`), kubeconfigFor(dir, user));

  start(dir, 'etcd', join(bin, 'etcd'), [
    '--name=kubecheck', `--data-dir=${join(dir, 'etcd-data')}`,
    `--listen-client-urls=http://127.0.0.1:${PORTS.etcd}`, `--advertise-client-urls=http://127.0.0.1:${PORTS.etcd}`,
    `--listen-peer-urls=http://127.0.0.1:${PORTS.etcdPeer}`, `--initial-advertise-peer-urls=http://127.0.0.1:${PORTS.etcdPeer}`,
    `--initial-cluster=kubecheck=http://127.0.0.1:${PORTS.etcdPeer}`, '--unsafe-no-fsync', '--quota-backend-bytes=8589934592',
  ]);
  await waitFor('etcd', 30_000, async () => (await curl`curl -s http://127.0.0.1:${PORTS.etcd}/health`).stdout.includes('"health":"true"'));

  start(dir, 'kube-apiserver', join(bin, 'kube-apiserver'), [
    `--etcd-servers=http://127.0.0.1:${PORTS.etcd}`, '--bind-address=127.0.0.1', `--secure-port=${PORTS.apiserver}`,
    '--advertise-address=127.0.0.1', `--cert-dir=${join(dir, 'pki')}`,
    `--tls-cert-file=${p('apiserver.crt')}`, `--tls-private-key-file=${p('apiserver.key')}`, `--client-ca-file=${p('ca.crt')}`,
    `--service-account-key-file=${p('sa.pub')}`, `--service-account-signing-key-file=${p('sa.key')}`,
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local', '--service-cluster-ip-range=10.96.0.0/12',
    '--authorization-mode=Node,RBAC', '--enable-bootstrap-token-auth=true', '--enable-priority-and-fairness=false',
    '--allow-privileged=true', '--max-requests-inflight=2000', '--max-mutating-requests-inflight=1000',
    // exec/logs go to the node's kubelet endpoint: KWOK's own server at the node's InternalIP (127.0.0.1).
    '--kubelet-preferred-address-types=InternalIP',
  ]);
  await waitFor('kube-apiserver', 90_000, async () => (await curl`curl -sk --cacert ${p('ca.crt')} https://127.0.0.1:${PORTS.apiserver}/readyz`).stdout.trim() === 'ok');

  start(dir, 'kube-controller-manager', join(bin, 'kube-controller-manager'), [
    `--kubeconfig=${join(dir, 'controller-manager.kubeconfig')}`, `--authentication-kubeconfig=${join(dir, 'controller-manager.kubeconfig')}`,
    `--authorization-kubeconfig=${join(dir, 'controller-manager.kubeconfig')}`, '--bind-address=127.0.0.1', `--secure-port=${PORTS.controllerManager}`,
    '--leader-elect=true', '--controllers=*,bootstrapsigner,tokencleaner', '--allocate-node-cidrs=true', '--cluster-cidr=10.244.0.0/16',
    '--node-cidr-mask-size=24', '--service-cluster-ip-range=10.96.0.0/12', `--root-ca-file=${p('ca.crt')}`,
    `--service-account-private-key-file=${p('sa.key')}`, `--cluster-signing-cert-file=${p('ca.crt')}`, `--cluster-signing-key-file=${p('ca.key')}`,
    '--use-service-account-credentials=true', '--kube-api-qps=200', '--kube-api-burst=400',
    ...leaders,
    // Nodes whose heartbeats stop turn NotReady after 20 s instead of 40 s, so tests wait less.
    `--node-monitor-grace-period=${options.nodeMonitorGracePeriod ?? '20s'}`, '--node-monitor-period=2s',
  ]);
  start(dir, 'kube-scheduler', join(bin, 'kube-scheduler'), [
    `--kubeconfig=${join(dir, 'scheduler.kubeconfig')}`, `--authentication-kubeconfig=${join(dir, 'scheduler.kubeconfig')}`,
    `--authorization-kubeconfig=${join(dir, 'scheduler.kubeconfig')}`, '--bind-address=127.0.0.1', `--secure-port=${PORTS.scheduler}`, '--leader-elect=true', ...leaders,
    '--kube-api-qps=200', '--kube-api-burst=400',
  ]);
  await installExecCrd(join(dir, 'admin.kubeconfig'));
  writeFileSync(join(dir, 'kwok.yaml'), options.kwokConfig ? `${kwokConfig().trimEnd()}\n---\n${options.kwokConfig}` : kwokConfig());
  start(dir, 'kwok', join(bin, 'kwok'), [
    `--kubeconfig=${join(dir, 'kwok.kubeconfig')}`, `--config=${join(dir, 'kwok.yaml')}`,
    '--manage-all-nodes=false', '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
    `--node-lease-duration-seconds=${options.nodeLeaseDurationSeconds ?? 40}`, '--cidr=10.0.0.1/24',
    // Nodes advertise KWOK's server as their kubelet, so the API server's exec proxy reaches KWOK's exec
    // emulation; per-pod Exec objects (written by kwok-pods) say how to answer.
    `--server-address=127.0.0.1:${PORTS.kwok}`, '--node-ip=127.0.0.1', `--node-port=${PORTS.kwok}`,
    `--tls-cert-file=${p('apiserver.crt')}`, `--tls-private-key-file=${p('apiserver.key')}`, '--enable-crds=Exec',
  ], options.kwokPath ? { ...process.env, PATH: `${options.kwokPath}:${process.env.PATH ?? ''}` } : undefined);
  start(dir, 'kwok-pods', process.execPath, [assetPath('dist/scripts/kwok-pods.js'), `--kubeconfig=${join(dir, 'admin.kubeconfig')}`, `--state=${join(dir, 'pods')}`, `--sync-delay=${POD_VOLUME_SYNC_SECONDS}`]);
  const kc = join(dir, 'admin.kubeconfig');
  await waitFor('controller-manager and scheduler leases', 90_000, async () => {
    const out = await curl`curl -sk --cacert ${p('ca.crt')} --cert ${p('admin.crt')} --key ${p('admin.key')} https://127.0.0.1:${PORTS.apiserver}/apis/coordination.k8s.io/v1/namespaces/kube-system/leases`;
    return out.stdout.includes('"kube-controller-manager"') && out.stdout.includes('"kube-scheduler"');
  });
  const pids: Record<string, number> = {};
  for (const name of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok', 'kwok-pods']) pids[name] = componentPid(dir, name) ?? 0;
  return { dir, kubeconfig: kc, server: `https://127.0.0.1:${PORTS.apiserver}`, pids, ports: PORTS };
}

async function installExecCrd(kubeconfig: string): Promise<void> {
  const api = await KubeApi.connect({ kubeconfig });
  const crd = parseYaml(readFileSync(EXEC_CRD_FILE, 'utf8')) as { metadata: { name: string } };
  await api.send('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
  await waitFor('the KWOK Exec CRD', 30_000, async () => {
    const got = await api.getJson<{ status?: { conditions?: { type: string; status: string }[] } }>(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`);
    return got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') === true;
  });
}

/** KWOK's Stages: nodes become Ready and renew their leases, pods become Running and Ready. */
function kwokConfig(): string {
  return readFileSync(STAGES_FILE, 'utf8');
}

/** Stops every component (by pid file, then by port as a fallback) and removes the cluster's state. */
export async function stopCluster(): Promise<void> {
  const dir = CLUSTER_DIR;
  for (const name of ['kwok-pods', 'kwok', 'kube-scheduler', 'kube-controller-manager', 'kube-apiserver', 'etcd']) {
    const pid = existsSync(dir) ? componentPid(dir, name) : undefined;
    if (pid) killComponent(pid, name);
  }
  rmSync(dir, { recursive: true, force: true });
}

export const randomToken = () => `${randomBytes(3).toString('hex')}.${randomBytes(8).toString('hex')}`;
export const digest = (s: string) => createHash('sha256').update(s).digest('hex');

if (import.meta.url === `file://${process.argv[1]}`) {
  const [command] = process.argv.slice(2);
  if (command === 'build') {
    const started = Date.now();
    const dir = await buildControlPlane();
    console.log(`control plane binaries in ${dir} (${Math.round((Date.now() - started) / 1000)} s)`);
  } else if (command === 'up') {
    const cluster = await startCluster();
    console.log(cluster.kubeconfig);
  } else if (command === 'down') {
    await stopCluster();
    console.log('cluster stopped');
  } else {
    console.error('usage: controlplane.js build | up | down');
    process.exitCode = 2;
  }
}
