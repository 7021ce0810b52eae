// The in-cluster collector's image, built here from Debian packages: busybox-static (the shell, sleep and
// chroot the pod needs — every host command runs under `chroot /host`, with the host's own tools) and
// kc-dial (deploy/collector/kc-dial.c, built static with gcc), one layer, no base image to pull. Then push it
// to the registry your nodes pull from, or write an archive to carry into an air-gapped site.
//
//   node dist/scripts/collector-image.js build                       # the OCI layout (cached), its path
//   node dist/scripts/collector-image.js push REGISTRY [--insecure]  # REGISTRY/kubecheck/collector:VERSION
//   node dist/scripts/collector-image.js archive FILE.tar            # docker-archive: `docker load`, `ctr -n k8s.io images import`
//
// Needs Debian's busybox-static, gcc (with libc6-dev) and skopeo; credentials for push come from
// `skopeo login` (or ~/.docker/config.json).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { $ } from 'zx';
import { assetPath, packageVersion } from '../src/core/assets.js';
import { COLLECTOR_REPOSITORY } from '../src/incluster/manifests.js';
import { type BuiltImage, type ImageSpec, buildImage } from './images.js';

const CACHE = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'kubecheck', 'collector');
const SOURCE = 'deploy/collector/kc-dial.c';

/** Where kc-dial is built. */
export const KC_DIAL = join(CACHE, 'kc-dial');

/** kc-dial, built static from its source (again only when the source's content changed: mtimes lie after a checkout). */
export async function buildKcDial(): Promise<string> {
  const out = KC_DIAL;
  const src = assetPath(SOURCE);
  const key = createHash('sha256').update(readFileSync(src)).digest('hex');
  const keyFile = `${out}.source-sha256`;
  if (existsSync(out) && existsSync(keyFile) && readFileSync(keyFile, 'utf8') === key) return out;
  mkdirSync(CACHE, { recursive: true });
  await $({ quiet: true })`gcc -O2 -static -Wall -o ${`${out}.partial`} ${src}`;
  renameSync(`${out}.partial`, out);
  writeFileSync(keyFile, key);
  return out;
}

export function collectorImageSpec(kcDial: string): ImageSpec {
  return {
    repository: COLLECTOR_REPOSITORY,
    tag: packageVersion(),
    source: `kubecheck's in-cluster collector: Debian busybox-static and kc-dial (${SOURCE}, gcc -static)`,
    busybox: true,
    files: [{ path: '/usr/local/bin/kc-dial', from: kcDial, mode: 0o755 }],
    cmd: ['/bin/sh', '-c', "trap 'exit 0' TERM INT; sleep 2147483647 & wait"],
  };
}

/** Builds the collector image as an OCI layout under the cache (reused when nothing changed). */
export async function buildCollectorImage(): Promise<BuiltImage> {
  return buildImage(collectorImageSpec(await buildKcDial()), CACHE);
}

const ref = (image: BuiltImage) => `oci:${image.layout}:${image.spec.tag}`;

if (import.meta.url === `file://${process.argv[1]}`) {
  const [command, target, ...flags] = process.argv.slice(2);
  const image = command === 'build' || command === 'push' || command === 'archive' ? await buildCollectorImage() : undefined;
  if (command === 'build' && image) {
    console.log(`${COLLECTOR_REPOSITORY}:${image.spec.tag} ${image.digest}`);
    console.log(`layout=${image.layout}`);
  } else if (command === 'push' && image && target) {
    const dest = `${target.replace(/\/+$/, '')}/${COLLECTOR_REPOSITORY}:${image.spec.tag}`;
    const verify = flags.includes('--insecure') ? 'false' : 'true';
    await $({ stdio: 'inherit' })`skopeo copy --insecure-policy --dest-tls-verify=${verify} ${ref(image)} ${`docker://${dest}`}`;
    console.log(`pushed ${dest} (${image.digest}): run kubecheck with --image-registry ${target}`);
  } else if (command === 'archive' && image && target) {
    await $({ stdio: 'inherit' })`skopeo copy --insecure-policy ${ref(image)} ${`docker-archive:${target}:${COLLECTOR_REPOSITORY}:${image.spec.tag}`}`;
    console.log(`wrote ${target}: load it on each node (ctr -n k8s.io images import ${target}), or push it to your mirror`);
  } else {
    console.error('usage: collector-image.js build | push REGISTRY [--insecure] | archive FILE.tar');
    process.exitCode = 2;
  }
}
