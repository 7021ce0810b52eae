// Test stand-in for what a kubelet and a container would answer inside a KWOK pod, for the workload
// scenarios (README, "What KWOK emulates"). KWOK makes pods Running and Ready but runs no container, and
// its exec emulation runs the command on this machine in a work dir with static env vars. This process
// gives each scenario pod (labelled app.kubernetes.io/managed-by=kubecheck) the container a kubelet would:
//
// - files: the pod's ConfigMap/Secret volumes are written under its own directory, which becomes the
//   exec work dir (the container's workingDir). A volume follows ConfigMap/Secret changes after
//   --sync-delay seconds (the kubelet's periodic sync); a subPath mount is written once (kubelet
//   semantics: never updated).
// - env: resolved once when the pod is scheduled (value, configMapKeyRef, secretKeyRef, metadata.name/
//   namespace fieldRefs), as a container's env is fixed at start.
// - traffic: `wget http://SERVICE[.NAMESPACE]/` inside a pod is a shell stand-in (PATH) that picks one
//   ready endpoint of the Service at random, as kube-proxy would, and prints that pod's name — what the
//   canary scenario's nginx config answers ($hostname).
//
// All of it is plumbing for KWOK: kubecheck itself only talks to the API server (watches, exec).
//
//   node dist/scripts/kwok-pods.js --kubeconfig FILE --state DIR [--sync-delay SECONDS]
import { chmodSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { ApiError, KubeApi, type WatchEvent } from '../src/k8s/api.js';
import { readyEndpoints } from '../src/scenarios/waits.js';
import { COLLECTOR_NAME } from '../src/incluster/manifests.js';

// The in-cluster collector's pods are not scenario pods: their commands are the host's (the benchmark's
// ClusterExec answers them), and materializing thousands of them was thousands of Exec objects written.
const MANAGED = `app.kubernetes.io/managed-by=kubecheck,app.kubernetes.io/name!=${COLLECTOR_NAME}`;

interface Meta {
  name: string;
  namespace: string;
  uid?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    configMapKeyRef?: { name: string; key: string };
    secretKeyRef?: { name: string; key: string };
    fieldRef?: { fieldPath: string };
  };
}
interface Container {
  name: string;
  workingDir?: string;
  env?: EnvVar[];
  volumeMounts?: { name: string; mountPath: string; subPath?: string }[];
}
interface Volume {
  name: string;
  configMap?: { name: string };
  secret?: { secretName: string };
}
interface Pod {
  metadata: Meta;
  spec: { nodeName?: string; containers: Container[]; volumes?: Volume[] };
}
interface DataObject {
  kind?: string;
  metadata: Meta;
  data?: Record<string, string>;
}
interface EndpointSlice {
  metadata: Meta;
  endpoints?: { conditions?: { ready?: boolean }; targetRef?: { kind?: string; name?: string } }[];
}

/** A volume mount that follows its ConfigMap/Secret. */
interface LiveMount {
  source: string; // kind/namespace/name
  dir: string;
}

const { values } = parseArgs({ options: { kubeconfig: { type: 'string' }, state: { type: 'string' }, 'sync-delay': { type: 'string', default: '3' } } });
if (!values.kubeconfig || !values.state) {
  console.error('usage: kwok-pods.js --kubeconfig FILE --state DIR [--sync-delay SECONDS]');
  process.exit(2);
}
process.title = 'kwok-pods';
const state = values.state;
const syncDelayMs = Number(values['sync-delay']) * 1000;
const binDir = join(state, 'bin');
const api = await KubeApi.connect({ kubeconfig: values.kubeconfig });

const log = (msg: string) => console.log(`${new Date().toISOString()} ${msg}`);

/** Latest data of every managed ConfigMap and Secret, by kind/namespace/name. */
const sources = new Map<string, Record<string, string>>();
/** Pods materialized, by namespace/name, with their uid and their live volume dirs. */
const pods = new Map<string, { uid: string; dir: string; live: LiveMount[] }>();
const slices = new Map<string, { namespace: string; service: string; ready: string[] }>();

function writeAtomically(file: string, content: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, content);
  renameSync(tmp, file);
}

function dataOf(obj: DataObject): Record<string, string> {
  const data = obj.data ?? {};
  if (obj.kind !== 'Secret') return { ...data };
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
}

async function sourceData(kind: 'ConfigMap' | 'Secret', namespace: string, name: string): Promise<Record<string, string> | undefined> {
  const key = `${kind}/${namespace}/${name}`;
  if (sources.has(key)) return sources.get(key);
  try {
    const path = kind === 'ConfigMap' ? `/api/v1/namespaces/${namespace}/configmaps/${name}` : `/api/v1/namespaces/${namespace}/secrets/${name}`;
    const obj = await api.getJson<DataObject>(path);
    const data = dataOf({ ...obj, kind });
    sources.set(key, data);
    return data;
  } catch (err: unknown) {
    if (err instanceof ApiError && err.status === 404) return undefined;
    throw err;
  }
}

function volumeSource(v: Volume | undefined): { kind: 'ConfigMap' | 'Secret'; name: string } | undefined {
  if (v?.configMap) return { kind: 'ConfigMap', name: v.configMap.name };
  if (v?.secret) return { kind: 'Secret', name: v.secret.secretName };
  return undefined;
}

function writeVolume(dir: string, data: Record<string, string>): void {
  mkdirSync(dir, { recursive: true });
  for (const [k, v] of Object.entries(data)) writeAtomically(join(dir, k), v);
}

/** What a kubelet does when it starts the pod's containers: files in place, env resolved. */
async function materialize(pod: Pod): Promise<void> {
  const { name, namespace, uid = '' } = pod.metadata;
  const key = `${namespace}/${name}`;
  if (!pod.spec.nodeName || pods.get(key)?.uid === uid) return;
  const podDir = join(state, namespace, 'pods', name);
  rmSync(podDir, { recursive: true, force: true });
  const live: LiveMount[] = [];
  const execs = [];
  for (const c of pod.spec.containers) {
    const root = join(podDir, c.name);
    for (const m of c.volumeMounts ?? []) {
      const src = volumeSource(pod.spec.volumes?.find((v) => v.name === m.name));
      if (!src) continue;
      const data = (await sourceData(src.kind, namespace, src.name)) ?? {};
      const target = join(root, m.mountPath);
      if (m.subPath) {
        writeAtomically(target, data[m.subPath] ?? '');
      } else {
        writeVolume(target, data);
        live.push({ source: `${src.kind}/${namespace}/${src.name}`, dir: target });
      }
    }
    const envs: { name: string; value: string }[] = [];
    for (const e of c.env ?? []) {
      const ref = e.valueFrom;
      let value = e.value;
      if (ref?.configMapKeyRef) value = (await sourceData('ConfigMap', namespace, ref.configMapKeyRef.name))?.[ref.configMapKeyRef.key];
      else if (ref?.secretKeyRef) value = (await sourceData('Secret', namespace, ref.secretKeyRef.name))?.[ref.secretKeyRef.key];
      else if (ref?.fieldRef) value = ({ 'metadata.name': name, 'metadata.namespace': namespace } as Record<string, string>)[ref.fieldRef.fieldPath];
      if (value !== undefined) envs.push({ name: e.name, value });
    }
    envs.push(
      { name: 'HOSTNAME', value: name },
      { name: 'PATH', value: `${binDir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin` },
      { name: 'KUBECHECK_EMULATED_NAMESPACE', value: namespace },
      { name: 'KUBECHECK_EMULATED_STATE', value: state },
    );
    const workDir = join(root, c.workingDir ?? '/');
    mkdirSync(workDir, { recursive: true });
    execs.push({ containers: [c.name], local: { workDir, envs } });
  }
  pods.set(key, { uid, dir: podDir, live });
  const exec = { apiVersion: 'kwok.x-k8s.io/v1alpha1', kind: 'Exec', metadata: { name, namespace }, spec: { execs } };
  const collection = `/apis/kwok.x-k8s.io/v1alpha1/namespaces/${namespace}/execs`;
  try {
    await api.send('POST', collection, exec);
  } catch (err: unknown) {
    if (!(err instanceof ApiError && err.status === 409)) throw err;
    const current = await api.getJson<{ metadata: { resourceVersion: string } }>(`${collection}/${name}`);
    await api.send('PUT', `${collection}/${name}`, { ...exec, metadata: { ...exec.metadata, resourceVersion: current.metadata.resourceVersion } });
  }
  log(`pod ${key}: materialized (${live.length} live volume(s))`);
}

async function forget(pod: Pod): Promise<void> {
  const { name, namespace } = pod.metadata;
  const entry = pods.get(`${namespace}/${name}`);
  if (!entry || entry.uid !== pod.metadata.uid) return;
  pods.delete(`${namespace}/${name}`);
  rmSync(entry.dir, { recursive: true, force: true });
  await api.send('DELETE', `/apis/kwok.x-k8s.io/v1alpha1/namespaces/${namespace}/execs/${name}`, undefined).catch(() => undefined);
}

/** A ConfigMap/Secret changed: volumes follow after the sync delay (subPath files and env never do). */
function changed(obj: DataObject, kind: 'ConfigMap' | 'Secret', deleted: boolean): void {
  const key = `${kind}/${obj.metadata.namespace}/${obj.metadata.name}`;
  if (deleted) {
    sources.delete(key);
    return;
  }
  const had = sources.has(key);
  sources.set(key, dataOf({ ...obj, kind }));
  if (!had) return;
  setTimeout(() => {
    const data = sources.get(key);
    if (!data) return;
    for (const [podKey, p] of pods) {
      for (const m of p.live) {
        if (m.source !== key) continue;
        writeVolume(m.dir, data);
        log(`pod ${podKey}: volume ${m.dir} synced from ${key}`);
      }
    }
  }, syncDelayMs);
}

function endpointsChanged(slice: EndpointSlice, deleted: boolean): void {
  const { namespace, name } = slice.metadata;
  const service = slice.metadata.labels?.['kubernetes.io/service-name'];
  if (!service) return;
  const key = `${namespace}/${name}`;
  if (deleted) slices.delete(key);
  else slices.set(key, { namespace, service, ready: readyEndpoints([slice]) });
  const ready = [...slices.values()].filter((s) => s.namespace === namespace && s.service === service).flatMap((s) => s.ready);
  writeAtomically(join(state, namespace, 'services', service), ready.map((p) => `${p}\n`).join(''));
}

/** Every change of a managed collection, forever: a (re)list counts as everything added. */
async function follow<T extends { metadata: Meta }>(path: string, handle: (event: WatchEvent<T>) => Promise<void> | void): Promise<never> {
  for (;;) {
    try {
      for await (const e of api.listWatch<T>(path, { query: { labelSelector: MANAGED }, timeoutSeconds: 300 })) {
        if (e.type !== 'LIST') await handle(e);
        else for (const item of e.items) await handle({ type: 'ADDED', object: item });
      }
    } catch (err: unknown) {
      log(`${path}: ${err instanceof Error ? err.message : String(err)}; listing again in 1 s`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

const WGET = `#!/bin/sh
# kubecheck test stand-in for \`wget URL\` inside a KWOK pod (scripts/kwok-pods.ts): one random ready
# endpoint of the Service answers with its pod name, like the canary scenario's nginx ($hostname).
url=""
for a in "$@"; do case "$a" in http://*|https://*) url="$a" ;; esac; done
hostport=\${url#*://}; hostport=\${hostport%%/*}; host=\${hostport%%:*}
svc=\${host%%.*}; rest=\${host#*.}
if [ "$rest" != "$host" ]; then ns=\${rest%%.*}; else ns=$KUBECHECK_EMULATED_NAMESPACE; fi
f="$KUBECHECK_EMULATED_STATE/$ns/services/$svc"
if [ ! -s "$f" ]; then echo "wget: can't connect to remote host ($host): Connection refused" >&2; exit 1; fi
shuf -n 1 "$f"
`;

mkdirSync(binDir, { recursive: true });
writeFileSync(join(binDir, 'wget'), WGET);
chmodSync(join(binDir, 'wget'), 0o755);
log(`emulating kubelet file/env/traffic answers for pods labelled ${MANAGED} under ${state} (volume sync delay ${syncDelayMs / 1000} s)`);

const guard = (what: string, fn: () => Promise<void> | void) => async () => {
  try {
    await fn();
  } catch (err: unknown) {
    log(`${what}: ${err instanceof Error ? err.message : String(err)}`);
  }
};
await Promise.all([
  follow<DataObject>('/api/v1/configmaps', (e) => changed(e.object, 'ConfigMap', e.type === 'DELETED')),
  follow<DataObject>('/api/v1/secrets', (e) => changed(e.object, 'Secret', e.type === 'DELETED')),
  follow<EndpointSlice>('/apis/discovery.k8s.io/v1/endpointslices', (e) => endpointsChanged(e.object, e.type === 'DELETED')),
  follow<Pod>('/api/v1/pods', (e) => guard(`pod ${e.object.metadata.namespace}/${e.object.metadata.name}`, () => (e.type === 'DELETED' ? forget(e.object) : materialize(e.object)))()),
]);
