// The node side of the real test cluster, built on this machine from Go modules (and one small C file):
// kubelet and kube-proxy from k8s.io/kubernetes through the same wrapper module as the control plane, the
// CNI plugins, flannel's CNI plugin and flanneld, CoreDNS, and the pause program. Cached under the user's
// cache dir and rebuilt only when missing.
//
//   node dist/scripts/node-binaries.js build
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { $ } from 'zx';
import { assetPath } from '../src/core/assets.js';
import { K8S_VERSION, kubernetesWrapper, versionLdflags } from './controlplane.js';

export const CNI_PLUGINS_VERSION = 'v1.10.0';
/**
 * flannel's CNI plugin lives in github.com/flannel-io/cni-plugin since 2021, but the Go module proxy here
 * refuses every version of that module (403). Until then it was containernetworking/plugins'
 * plugins/meta/flannel; v0.9.1 is its last release there — the same plugin, speaking CNI up to 0.4.0.
 */
export const FLANNEL_CNI_VERSION = 'v0.9.1';
export const FLANNEL_VERSION = 'v0.28.10';
/** crictl, which kubeadm's preflight wants on every node (v1.33.0 is not served by the proxy here; crictl speaks CRI v1 to any runtime). */
export const CRI_TOOLS_VERSION = 'v1.34.0';
/** The CoreDNS version kubeadm v1.33 deploys. */
export const COREDNS_VERSION = 'v1.12.0';

const cacheRoot = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'kubecheck', 'node');
export const NODE_BIN_DIR = join(cacheRoot, `${K8S_VERSION}-cni${CNI_PLUGINS_VERSION}-flannel${FLANNEL_VERSION}-coredns${COREDNS_VERSION}-crictl${CRI_TOOLS_VERSION}`, 'bin');

export const CNI_PLUGINS = ['bridge', 'host-local', 'loopback', 'portmap'];
export const NODE_BINARIES = ['kubelet', 'kube-proxy', ...CNI_PLUGINS, 'flannel', 'flanneld', 'install-conf', 'coredns', 'crictl', 'pause'];

const goEnv = { ...process.env, CGO_ENABLED: '0', GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod' };
const sh = $({ quiet: true, env: goEnv, timeout: '120m' });

function log(msg: string): void {
  process.stderr.write(`[node-binaries] ${msg}\n`);
}

/** Builds `pkg` in the wrapper module `work` into BIN/name, through a temporary file so a cut build leaves nothing. */
async function goBuild(work: string, name: string, pkg: string, ldflags = '-s -w', options: { cgo?: boolean } = {}): Promise<void> {
  const out = join(NODE_BIN_DIR, name);
  if (existsSync(out)) return;
  const started = Date.now();
  log(`building ${name} (${pkg})…`);
  // cgo builds are linked statically (they run in images without a libc), with Go's own resolver.
  const cgo = options.cgo ? ['-tags', 'netgo,osusergo'] : [];
  const flags = options.cgo ? `${ldflags} -extldflags "-static"` : ldflags;
  await sh({ cwd: work, env: { ...goEnv, CGO_ENABLED: options.cgo ? '1' : '0' } })`go build -trimpath ${cgo} -ldflags ${flags} -o ${`${out}.partial`} ${pkg}`;
  renameSync(`${out}.partial`, out);
  log(`built ${name} in ${Math.round((Date.now() - started) / 1000)} s`);
}

/**
 * A throwaway module that requires `requires` (so their own replace directives are ignored), with
 * `replaces` for dependencies whose pinned version the module proxy here does not serve.
 */
function wrapper(name: string, requires: Record<string, string>, files: Record<string, string> = {}, replaces: Record<string, string> = {}): string {
  const work = join(cacheRoot, `wrapper-${name}`);
  mkdirSync(work, { recursive: true });
  const mod = `module kubecheck.local/${name}\n\ngo 1.24\n\nrequire (\n${Object.entries(requires).map(([m, v]) => `\t${m} ${v}\n`).join('')})\n` +
    Object.entries(replaces).map(([m, v]) => `\nreplace ${m} => ${m} ${v}\n`).join('');
  // Keep what go mod tidy added to an existing go.mod; write it only the first time.
  if (!existsSync(join(work, 'go.mod'))) writeFileSync(join(work, 'go.mod'), mod);
  for (const [file, content] of Object.entries(files)) writeFileSync(join(work, file), content);
  return work;
}

/** kubelet and kube-proxy: the control plane's wrapper module, plus the modules only the node commands need. */
async function buildKubeNode(): Promise<void> {
  if (['kubelet', 'kube-proxy'].every((b) => existsSync(join(NODE_BIN_DIR, b)))) return;
  const work = await kubernetesWrapper(join(cacheRoot, `wrapper-kubernetes-${K8S_VERSION}`), 'kubecheck.local/node');
  writeFileSync(join(work, 'tools.go'), '//go:build tools\n\npackage tools\n\nimport (\n\t_ "k8s.io/kubernetes/cmd/kubelet"\n\t_ "k8s.io/kubernetes/cmd/kube-proxy"\n)\n');
  if (!existsSync(join(work, 'go.sum')) || !readFileSync(join(work, 'go.mod'), 'utf8').includes('// indirect')) await sh({ cwd: work })`go mod tidy`;
  for (const cmd of ['kubelet', 'kube-proxy']) await goBuild(work, cmd, `k8s.io/kubernetes/cmd/${cmd}`, `-s -w ${versionLdflags()}`);
}

async function buildCni(): Promise<void> {
  const plugins = wrapper(`cni-plugins-${CNI_PLUGINS_VERSION}`, { 'github.com/containernetworking/plugins': CNI_PLUGINS_VERSION });
  const where: Record<string, string> = { bridge: 'main/bridge', loopback: 'main/loopback', 'host-local': 'ipam/host-local', portmap: 'meta/portmap' };
  const version = `-s -w -X github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion=${CNI_PLUGINS_VERSION}`;
  for (const p of CNI_PLUGINS) await goBuild(plugins, p, `github.com/containernetworking/plugins/plugins/${where[p]}`, version);
  const flannel = wrapper(`flannel-cni-${FLANNEL_CNI_VERSION}`, { 'github.com/containernetworking/plugins': FLANNEL_CNI_VERSION });
  await goBuild(flannel, 'flannel', 'github.com/containernetworking/plugins/plugins/meta/flannel');
}

async function buildFlannel(): Promise<void> {
  // flannel pins tencentcloud-sdk-go's vpc module at v1.3.188, which the proxy here refuses (403); its
  // tencentvpc backend builds against v1.0.1000 and is never used here (the backend is vxlan).
  const work = wrapper(`flannel-${FLANNEL_VERSION}`, { 'github.com/flannel-io/flannel': FLANNEL_VERSION }, {}, { 'github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/vpc': 'v1.0.1000' });
  // cgo on amd64, as flannel's Makefile builds it (the udp backend's proxy is C).
  await goBuild(work, 'flanneld', 'github.com/flannel-io/flannel', `-s -w -X github.com/flannel-io/flannel/pkg/version.Version=${FLANNEL_VERSION}`, { cgo: true });
  await goBuild(work, 'install-conf', 'github.com/flannel-io/flannel/cmd/install_conf');
}

/**
 * CoreDNS with the plugins kubeadm's Corefile uses (and `log`), the way CoreDNS documents building it
 * with a chosen plugin set: a main package importing coremain and those plugins. The full plugin set
 * would add the cloud DNS providers' SDKs to the build for nothing.
 */
async function buildCoreDns(): Promise<void> {
  const plugins = ['cache', 'errors', 'forward', 'health', 'kubernetes', 'loadbalance', 'log', 'loop', 'metrics', 'ready', 'reload'];
  const main = [
    '// CoreDNS with the plugins of kubeadm\'s Corefile: generated by kubecheck scripts/node-binaries.ts.',
    'package main',
    '',
    'import (',
    '\t"github.com/coredns/coredns/coremain"',
    ...plugins.map((p) => `\t_ "github.com/coredns/coredns/plugin/${p}"`),
    ')',
    '',
    'func main() { coremain.Run() }',
    '',
  ].join('\n');
  const work = wrapper(`coredns-${COREDNS_VERSION}`, { 'github.com/coredns/coredns': COREDNS_VERSION }, { 'main.go': main });
  if (!existsSync(join(NODE_BIN_DIR, 'coredns')) && !existsSync(join(work, 'go.sum'))) await sh({ cwd: work })`go mod tidy`;
  await goBuild(work, 'coredns', '.', `-s -w -X github.com/coredns/coredns/coremain.GitCommit=${COREDNS_VERSION}`);
}

async function buildCrictl(): Promise<void> {
  const work = wrapper(`cri-tools-${CRI_TOOLS_VERSION}`, { 'sigs.k8s.io/cri-tools': CRI_TOOLS_VERSION });
  await goBuild(work, 'crictl', 'sigs.k8s.io/cri-tools/cmd/crictl', `-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=${CRI_TOOLS_VERSION}`);
}

async function buildPause(): Promise<void> {
  const out = join(NODE_BIN_DIR, 'pause');
  if (existsSync(out)) return;
  await $({ quiet: true })`gcc -O2 -static -o ${`${out}.partial`} ${assetPath('scripts/realcluster/pause.c')}`;
  renameSync(`${out}.partial`, out);
}

/** Builds every node binary that is missing from the cache; returns the folder that holds them. */
export async function buildNodeBinaries(): Promise<string> {
  mkdirSync(NODE_BIN_DIR, { recursive: true });
  await buildPause();
  await buildCni();
  await buildFlannel();
  await buildCoreDns();
  await buildCrictl();
  await buildKubeNode();
  for (const b of NODE_BINARIES) if (!existsSync(join(NODE_BIN_DIR, b))) throw new Error(`${b} is missing after the build`);
  return NODE_BIN_DIR;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [command] = process.argv.slice(2);
  if (command === 'build') {
    const started = Date.now();
    const dir = await buildNodeBinaries();
    console.log(`node binaries in ${dir} (${Math.round((Date.now() - started) / 1000)} s)`);
  } else {
    console.error('usage: node-binaries.js build');
    process.exitCode = 2;
  }
}
