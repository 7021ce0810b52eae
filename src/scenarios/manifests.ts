// A scenario's manifests are readable YAML next to its check (kubectl-appliable as they are). Before they
// are created they get the scenario's namespace, the managed-by label on every object and pod template,
// and the run's settings: image registry mirror, pull policy, requests, node selector.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { assetPath } from '../core/assets.js';
import type { WorkloadSettings } from '../core/types.js';
import { MANAGED_BY } from '../k8s/managed.js';

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export interface PodSpec {
  containers: { name: string; image: string; imagePullPolicy?: string; resources?: { requests?: Record<string, string> }; [f: string]: unknown }[];
  nodeSelector?: Record<string, string>;
  [field: string]: unknown;
}

/** Reads a multi-document YAML file shipped with the package (a programmer error if it is broken). */
export function loadManifests(relative: string): Manifest[] {
  const docs = parseAllDocuments(readFileSync(assetPath(relative), 'utf8'));
  return docs.map((d, i) => {
    if (d.errors.length) throw new Error(`${relative} document ${i + 1}: ${d.errors[0].message}`);
    return d.toJS() as Manifest;
  }).filter((m) => m && typeof m === 'object');
}

/**
 * `nginx:1.22` through the mirror `registry.example.com/hub` → `registry.example.com/hub/library/nginx:1.22`:
 * the reference is first written out in full (docker.io, `library/` for official images), then its
 * registry is replaced — how registry mirrors and pull-through caches lay out their paths.
 */
export function mirrorImage(image: string, registry: string | undefined): string {
  if (!registry) return image;
  const slash = image.indexOf('/');
  const first = slash < 0 ? '' : image.slice(0, slash);
  const hasRegistry = first !== '' && (first.includes('.') || first.includes(':') || first === 'localhost');
  const path = hasRegistry ? image.slice(slash + 1) : slash < 0 ? `library/${image}` : image;
  return `${registry.replace(/\/+$/, '')}/${path}`;
}

/** The pod spec inside a Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet or Job. */
export function podSpecOf(m: Manifest): PodSpec | undefined {
  if (m.kind === 'Pod') return m.spec as PodSpec;
  const template = (m.spec as { template?: { metadata?: Manifest['metadata']; spec?: PodSpec } } | undefined)?.template;
  return template?.spec;
}

function podTemplateMeta(m: Manifest): { labels?: Record<string, string> } | undefined {
  const template = (m.spec as { template?: { metadata?: { labels?: Record<string, string> } } } | undefined)?.template;
  if (!template) return undefined;
  template.metadata ??= {};
  return template.metadata;
}

/** Places the manifests in the namespace and applies the settings; returns new objects. */
export function prepareManifests(manifests: readonly Manifest[], namespace: string, settings: WorkloadSettings, scenario: string): Manifest[] {
  const labels = { [MANAGED_BY.key]: MANAGED_BY.value, 'kubecheck.dev/scenario': scenario };
  return manifests.map((original) => {
    const m = structuredClone(original);
    m.metadata.namespace = namespace;
    m.metadata.labels = { ...(m.metadata.labels ?? {}), ...labels };
    const meta = podTemplateMeta(m);
    if (meta) meta.labels = { ...(meta.labels ?? {}), ...labels };
    const spec = podSpecOf(m);
    if (spec) {
      for (const c of spec.containers) {
        c.image = mirrorImage(c.image, settings.imageRegistry);
        if (settings.imagePullPolicy) c.imagePullPolicy = settings.imagePullPolicy;
        if (settings.requests) c.resources = { ...(c.resources ?? {}), requests: { ...settings.requests } };
      }
      if (settings.nodeSelector && Object.keys(settings.nodeSelector).length) spec.nodeSelector = { ...(spec.nodeSelector ?? {}), ...settings.nodeSelector };
    }
    return m;
  });
}

const CORE: Record<string, string> = { Pod: 'pods', Service: 'services', ConfigMap: 'configmaps', Secret: 'secrets' };
const APPS: Record<string, string> = { Deployment: 'deployments' };

/** The collection a namespaced object is created in. */
export function collectionOf(m: Manifest): string {
  const ns = m.metadata.namespace;
  if (CORE[m.kind] && m.apiVersion === 'v1') return `/api/v1/namespaces/${ns}/${CORE[m.kind]}`;
  if (APPS[m.kind] && m.apiVersion === 'apps/v1') return `/apis/apps/v1/namespaces/${ns}/${APPS[m.kind]}`;
  throw new Error(`scenario manifests: ${m.apiVersion} ${m.kind} is not supported`);
}

/** A copy of a Pod or workload manifest whose (first) container runs `image` instead, when one is given. */
export function withImage<M extends Manifest>(m: M, image: string | undefined): M {
  const copy = structuredClone(m);
  if (image) podSpecOf(copy)!.containers[0].image = image;
  return copy;
}

/** Finds a manifest by kind and name (a programmer error when the YAML does not have it). */
export function pick(manifests: readonly Manifest[], kind: string, name: string): Manifest {
  const m = manifests.find((x) => x.kind === kind && x.metadata.name === name);
  if (!m) throw new Error(`scenario manifests have no ${kind} ${name}`);
  return m;
}
