// The images the real test cluster runs, each made here from Debian packages and the Go builds (see
// scripts/images.ts), and the registry that serves them: Debian's docker-registry on the test network's
// "mirror" host, as an air-gapped site runs its mirror. The README's table of images comes from here.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { $ } from 'zx';
import { BIN_DIR, ETCD_VERSION, K8S_VERSION } from './controlplane.js';
import { type BuiltImage, type ImageFile, type ImageSpec, buildImage, pushImage } from './images.js';
import { COREDNS_VERSION, FLANNEL_CNI_VERSION, FLANNEL_VERSION, NODE_BIN_DIR } from './node-binaries.js';
import { KC_DIAL, buildKcDial, collectorImageSpec } from './collector-image.js';

export const IMAGE_CACHE = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'kubecheck', 'images');
/** The registry's storage: kept between runs, so unchanged images are pushed once per machine. */
export const REGISTRY_STORAGE = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'kubecheck', 'registry');

/** The pause version kubeadm v1.33 expects, the etcd tag for the etcd we build (kubeadm's tag scheme). */
export const PAUSE_TAG = '3.10';
export const ETCD_TAG = `${ETCD_VERSION.replace(/^v/, '')}-0`;
/** Debian bookworm's versions of what the workload images carry. */
export const NGINX_TAG = '1.22';
export const NGINX_CANARY_TAG = '1.22-canary';
export const BUSYBOX_TAG = '1.35';

const bin = (name: string) => join(NODE_BIN_DIR, name);
const cp = (name: string) => join(BIN_DIR, name);

/** iptables (nft backend, as on the hosts), its extensions and conntrack: what kube-proxy and flanneld exec. */
function iptablesFiles(): ImageFile[] {
  const ext = '/usr/lib/x86_64-linux-gnu/xtables';
  const tools = ['iptables', 'iptables-save', 'iptables-restore', 'ip6tables', 'ip6tables-save', 'ip6tables-restore'];
  return [
    { path: '/usr/sbin/xtables-nft-multi', from: '/usr/sbin/xtables-nft-multi', withLibs: true },
    ...tools.flatMap((t) => [{ path: `/usr/sbin/${t}`, symlink: 'xtables-nft-multi' }, { path: `/usr/sbin/${t.replace(/^ip(6?)tables/, 'ip$1tables-nft')}`, symlink: 'xtables-nft-multi' }]),
    ...(existsSync(ext) ? readdirSync(ext) : []).filter((f) => f.endsWith('.so')).map((f) => ({ path: join(ext, f), from: join(ext, f), withLibs: true })),
    { path: '/usr/sbin/conntrack', from: '/usr/sbin/conntrack', withLibs: true },
    { path: '/usr/sbin/nft', from: '/usr/sbin/nft', withLibs: true },
    { path: '/etc/nsswitch.conf', content: 'hosts: files dns\n' },
    { path: '/run', dir: true },
  ];
}

function nginxFiles(marker: string): ImageFile[] {
  return [
    { path: '/usr/sbin/nginx', from: '/usr/sbin/nginx', withLibs: true },
    { path: '/etc/nginx/mime.types', from: '/etc/nginx/mime.types' },
    // The official image's layout: nginx.conf includes conf.d, which a ConfigMap volume may replace.
    { path: '/etc/nginx/nginx.conf', content: 'user nobody nogroup;\nworker_processes 1;\nerror_log stderr notice;\npid /run/nginx.pid;\nevents { worker_connections 1024; }\nhttp {\n  include /etc/nginx/mime.types;\n  default_type application/octet-stream;\n  access_log /dev/stdout;\n  sendfile on;\n  include /etc/nginx/conf.d/*.conf;\n}\n' },
    { path: '/etc/nginx/conf.d/default.conf', content: 'server {\n  listen 80;\n  location / { root /usr/share/nginx/html; index index.html; }\n}\n' },
    { path: '/usr/share/nginx/html/index.html', content: `<html><body>nginx (Debian nginx-light 1.22.1), ${marker}</body></html>\n` },
    { path: '/var/lib/nginx', dir: true },
    { path: '/var/log/nginx', dir: true },
    { path: '/run', dir: true },
  ];
}

/** Every image of the real cluster, from the binaries built by controlplane.ts and node-binaries.ts. */
export function clusterImages(): ImageSpec[] {
  const k8s = (name: string): ImageSpec => ({
    repository: `kubernetes/${name}`,
    tag: K8S_VERSION,
    source: `${name} ${K8S_VERSION} built from k8s.io/kubernetes`,
    files: [{ path: `/usr/local/bin/${name}`, from: cp(name) }],
  });
  return [
    { repository: 'kubernetes/pause', tag: PAUSE_TAG, source: 'scripts/realcluster/pause.c (gcc -static)', files: [{ path: '/pause', from: bin('pause') }], entrypoint: ['/pause'] },
    k8s('kube-apiserver'),
    k8s('kube-controller-manager'),
    k8s('kube-scheduler'),
    { repository: 'kubernetes/etcd', tag: ETCD_TAG, source: `etcd ${ETCD_VERSION} built from go.etcd.io/etcd/server/v3`, files: [{ path: '/usr/local/bin/etcd', from: cp('etcd') }] },
    { repository: 'kubernetes/coredns', tag: COREDNS_VERSION, source: `CoreDNS ${COREDNS_VERSION} (kubeadm's Corefile plugins) built from github.com/coredns/coredns`, files: [{ path: '/coredns', from: bin('coredns') }], entrypoint: ['/coredns'] },
    {
      repository: 'kubernetes/kube-proxy',
      tag: K8S_VERSION,
      source: `kube-proxy ${K8S_VERSION} built from k8s.io/kubernetes, with Debian's iptables (nft), conntrack and nft`,
      files: [{ path: '/usr/local/bin/kube-proxy', from: bin('kube-proxy') }, ...iptablesFiles()],
    },
    {
      repository: 'flannel-io/flannel',
      tag: FLANNEL_VERSION,
      source: `flanneld and install-conf ${FLANNEL_VERSION} built from github.com/flannel-io/flannel, with busybox and Debian's iptables (nft)`,
      busybox: true,
      files: [{ path: '/opt/bin/flanneld', from: bin('flanneld') }, { path: '/opt/bin/install-conf', from: bin('install-conf') }, ...iptablesFiles()],
      entrypoint: ['/opt/bin/flanneld'],
    },
    {
      repository: 'flannel-io/flannel-cni-plugin',
      tag: FLANNEL_CNI_VERSION,
      source: `the flannel CNI plugin ${FLANNEL_CNI_VERSION} built from github.com/containernetworking/plugins (plugins/meta/flannel), with busybox`,
      busybox: true,
      files: [{ path: '/flannel', from: bin('flannel') }],
    },
    { repository: 'library/busybox', tag: BUSYBOX_TAG, source: 'Debian busybox-static 1.35.0', busybox: true, files: [], cmd: ['sh'] },
    { repository: 'library/nginx', tag: NGINX_TAG, source: 'Debian nginx-light 1.22.1, with busybox', busybox: true, files: nginxFiles('stable build'), entrypoint: ['nginx', '-g', 'daemon off;'] },
    {
      repository: 'library/nginx',
      tag: NGINX_CANARY_TAG,
      source: 'Debian nginx-light 1.22.1 again, a second build standing for the canary\'s new version',
      busybox: true,
      files: [...nginxFiles('canary build'), { path: '/etc/kubecheck-canary', content: 'this image is the canary build of nginx 1.22.1\n' }],
      entrypoint: ['nginx', '-g', 'daemon off;'],
    },
    // Not a test image: kubecheck's own, as users build it (scripts/collector-image.ts), for --in-cluster.
    collectorImageSpec(KC_DIAL),
  ];
}

export const IMAGES_BEGIN = '<!-- images:begin (generated by `npm run catalogue` from scripts/cluster-images.ts; do not edit) -->';
export const IMAGES_END = '<!-- images:end -->';

/** The README's table of the real cluster's images: what each is and what it is built from. */
export function imagesMarkdown(): string {
  return ['| image (in the local registry) | built from |', '|---|---|', ...clusterImages().map((i) => `| \`${i.repository}:${i.tag}\` | ${i.source} |`)].join('\n');
}

/** Replaces the README's generated images block. */
export function withImages(readme: string): string {
  const start = readme.indexOf(IMAGES_BEGIN);
  const end = readme.indexOf(IMAGES_END);
  if (start < 0 || end < start) throw new Error('README has no images markers');
  return `${readme.slice(0, start + IMAGES_BEGIN.length)}\n${imagesMarkdown()}\n${readme.slice(end)}`;
}

function log(msg: string): void {
  process.stderr.write(`[images] ${msg}\n`);
}

/** Builds every image (cached OCI layouts). */
export async function buildClusterImages(): Promise<BuiltImage[]> {
  await buildKcDial();
  const built: BuiltImage[] = [];
  for (const spec of clusterImages()) built.push(await buildImage(spec, IMAGE_CACHE));
  return built;
}

/** Pushes every image to the registry at `registry` (skipping those it already has). */
export async function pushClusterImages(images: BuiltImage[], registry: string): Promise<void> {
  const started = Date.now();
  let pushed = 0;
  for (const image of images) if ((await pushImage(image, registry)) === 'pushed') pushed++;
  log(`${pushed} of ${images.length} images pushed to ${registry} in ${Math.round((Date.now() - started) / 1000)} s`);
}

/** The registry's config: plain HTTP on one address, storage in the cache, deletes allowed, quiet logs. */
export function writeRegistryConfig(dir: string, address: string): string {
  mkdirSync(REGISTRY_STORAGE, { recursive: true });
  const file = join(dir, 'registry.yml');
  writeFileSync(file, [
    'version: 0.1',
    'log: {level: warn, accesslog: {disabled: true}}',
    `storage: {filesystem: {rootdirectory: ${REGISTRY_STORAGE}}, delete: {enabled: true}}`,
    `http: {addr: "${address}"}`,
    '',
  ].join('\n'));
  return file;
}

/** The registry binary Debian's docker-registry package installs. */
export function registryBinary(): string {
  const path = '/usr/bin/docker-registry';
  if (!existsSync(path)) throw new Error(`${path} is missing: apt-get install docker-registry`);
  return path;
}

/** Waits until the registry answers its API (bounded). */
export async function waitForRegistry(registry: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await fetch(`http://${registry}/v2/`, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false);
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`the registry at ${registry} did not answer within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export const shQuiet = $({ quiet: true, nothrow: true, timeout: '30s' });
