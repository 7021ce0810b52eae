// Container images for the real test cluster, made on this machine — no image can be pulled from the
// internet here. Each image is a single layer of files taken from Debian packages installed on this
// machine (with the shared libraries their binaries load) and from the Go builds, written as an OCI image
// layout and pushed with skopeo to the local registry, which the nodes pull from like an air-gapped
// site's mirror.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { $ } from 'zx';

const sh = $({ quiet: true, timeout: '10m' });

export interface ImageFile {
  /** Absolute path inside the image. */
  path: string;
  /** A file on this machine to copy there. */
  from?: string;
  content?: string;
  mode?: number;
  /** Makes `path` a symbolic link to this target. */
  symlink?: string;
  /** An empty directory (mode 0755, or `mode`). */
  dir?: boolean;
  /** Also copy the shared libraries the binary loads (found with ldd), at the paths ldd names. */
  withLibs?: boolean;
}

export interface ImageSpec {
  /** Repository in the registry, e.g. `library/nginx`, `kubernetes/kube-proxy`. */
  repository: string;
  tag: string;
  /** What the image is built from, said in its labels and in the README. */
  source: string;
  /** Start from busybox-static's applets (a shell, cp, wget, sleep…). */
  busybox?: boolean;
  files: ImageFile[];
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  workingDir?: string;
}

export interface BuiltImage {
  spec: ImageSpec;
  /** The OCI image layout on disk. */
  layout: string;
  /** Digest of the image manifest (what the registry serves for the tag). */
  digest: string;
}

const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The shared libraries (and the dynamic loader) a binary on this machine loads, by ldd. */
export async function sharedLibraries(binary: string): Promise<string[]> {
  const out = await $({ quiet: true, nothrow: true })`ldd ${binary}`;
  if (/not a dynamic executable|statically linked/.test(out.stdout + out.stderr)) return [];
  if (out.exitCode !== 0) throw new Error(`ldd ${binary} failed: ${out.stderr.trim()}`);
  const libs: string[] = [];
  for (const line of out.stdout.split('\n')) {
    const m = /=>\s+(\/\S+)\s+\(/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) libs.push(m[1]);
    else if (/=> not found/.test(line)) throw new Error(`${binary} needs a library that is missing here: ${line.trim()}`);
  }
  return libs;
}

/** busybox-static and a link per applet, at its usual folder (`busybox --list-full`: bin/sh, usr/bin/wget…). */
function busyboxFiles(): ImageFile[] {
  if (!existsSync('/bin/busybox')) throw new Error('/bin/busybox is missing: apt-get install busybox-static');
  const applets = execFileSync('/bin/busybox', ['--list-full'], { encoding: 'utf8' }).split('\n').map((l) => l.trim()).filter(Boolean);
  return [{ path: '/bin/busybox', from: '/bin/busybox' }, ...applets.filter((a) => a !== 'bin/busybox').map((a) => ({ path: `/${a}`, symlink: '/bin/busybox' }))];
}

const BASE_ETC: ImageFile[] = [
  { path: '/etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' },
  { path: '/etc/group', content: 'root:x:0:\nnogroup:x:65534:\n' },
  { path: '/tmp', dir: true, mode: 0o1777 },
  { path: '/root', dir: true, mode: 0o700 },
];

/** Puts the image's files in `root`: busybox first, then the listed files, then the libraries they need. */
async function stage(spec: ImageSpec, root: string): Promise<void> {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const entries = [...(spec.busybox ? busyboxFiles() : []), ...BASE_ETC, ...spec.files];
  const libs = new Set<string>();
  for (const f of entries) {
    const target = join(root, f.path);
    mkdirSync(dirname(target), { recursive: true });
    if (f.symlink) {
      rmSync(target, { force: true });
      symlinkSync(f.symlink, target);
    } else if (f.dir) {
      mkdirSync(target, { recursive: true });
      chmodSync(target, f.mode ?? 0o755);
    } else if (f.content !== undefined) {
      writeFileSync(target, f.content);
      chmodSync(target, f.mode ?? 0o644);
    } else if (f.from) {
      if (!existsSync(f.from)) throw new Error(`${spec.repository}:${spec.tag} needs ${f.from}, which is not on this machine`);
      rmSync(target, { force: true });
      copyFileSync(realpathSync(f.from), target);
      chmodSync(target, f.mode ?? statSync(f.from).mode & 0o7777);
      if (f.withLibs) for (const lib of await sharedLibraries(f.from)) libs.add(lib);
    }
  }
  for (const lib of libs) {
    const target = join(root, lib);
    if (existsSync(target)) continue;
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(realpathSync(lib), target);
    chmodSync(target, 0o755);
  }
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** What an image is made of, so an unchanged image is neither rebuilt nor pushed again. */
function inputKey(spec: ImageSpec): string {
  const h = createHash('sha256').update(JSON.stringify(spec));
  for (const f of spec.files) {
    if (!f.from || !existsSync(f.from)) continue;
    const s = statSync(f.from);
    h.update(`${f.from}\0${s.size}\0${s.mtimeMs}\0`);
  }
  return h.digest('hex');
}

/** Builds one image as an OCI layout under `cacheDir` (reused when its inputs did not change). */
export async function buildImage(spec: ImageSpec, cacheDir: string): Promise<BuiltImage> {
  const name = `${spec.repository.replace(/\//g, '_')}_${spec.tag}`;
  const layout = join(cacheDir, 'layouts', name);
  const keyFile = join(layout, 'kubecheck-input');
  const key = inputKey(spec);
  if (existsSync(keyFile) && readFileSync(keyFile, 'utf8') === key) {
    const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    return { spec, layout, digest: index.manifests[0].digest };
  }
  const root = join(cacheDir, 'rootfs', name);
  await stage(spec, root);
  // One reproducible layer: sorted names, owner root, a fixed mtime.
  const tarFile = `${root}.tar`;
  await sh`tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C ${root} -cf ${tarFile} .`;
  const tar = readFileSync(tarFile);
  rmSync(tarFile, { force: true });
  const layer = gzipSync(tar, { level: 6 });
  const diffId = `sha256:${sha256(tar)}`;
  const config = JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    created: '1970-01-01T00:00:00Z',
    config: {
      Env: spec.env ?? [PATH_ENV],
      ...(spec.entrypoint ? { Entrypoint: spec.entrypoint } : {}),
      ...(spec.cmd ? { Cmd: spec.cmd } : {}),
      ...(spec.workingDir ? { WorkingDir: spec.workingDir } : {}),
      Labels: { 'org.opencontainers.image.source': spec.source, 'org.opencontainers.image.vendor': 'kubecheck test images, built locally' },
    },
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created: '1970-01-01T00:00:00Z', created_by: `kubecheck scripts/images.ts: ${spec.source}` }],
  });
  rmSync(layout, { recursive: true, force: true });
  const blobs = join(layout, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const put = (data: Buffer | string) => {
    const digest = sha256(data);
    writeFileSync(join(blobs, digest), data);
    return { digest: `sha256:${digest}`, size: Buffer.byteLength(data) };
  };
  const layerBlob = put(layer);
  const configBlob = put(config);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...configBlob },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layerBlob }],
  });
  const manifestBlob = put(manifest);
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(layout, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifestBlob, annotations: { 'org.opencontainers.image.ref.name': spec.tag } }],
  }));
  writeFileSync(keyFile, key);
  rmSync(root, { recursive: true, force: true });
  return { spec, layout, digest: manifestBlob.digest };
}

/** The manifest digest the registry serves for an image's tag, or undefined when it has none. */
async function registryDigest(registry: string, image: BuiltImage): Promise<string | undefined> {
  try {
    const res = await fetch(`http://${registry}/v2/${image.spec.repository}/manifests/${image.spec.tag}`, {
      method: 'HEAD',
      headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' },
      signal: AbortSignal.timeout(10_000),
    });
    return res.ok ? res.headers.get('docker-content-digest') ?? undefined : undefined;
  } catch {
    return undefined;
  }
}

/** Pushes an image to a plain-HTTP registry with skopeo, unless the registry already has this digest. */
export async function pushImage(image: BuiltImage, registry: string): Promise<'pushed' | 'present'> {
  if ((await registryDigest(registry, image)) === image.digest) return 'present';
  await sh`skopeo copy --quiet --insecure-policy --dest-tls-verify=false ${`oci:${image.layout}:${image.spec.tag}`} ${`docker://${registry}/${image.spec.repository}:${image.spec.tag}`}`;
  return 'pushed';
}

/** Every file under a folder on this machine, as image files at the same paths (for plugin folders). */
export function folderFiles(folder: string, options: { withLibs?: boolean } = {}): ImageFile[] {
  return readdirSync(folder).map((name) => ({ path: join(folder, name), from: join(folder, name), ...(options.withLibs ? { withLibs: true } : {}) }));
}
