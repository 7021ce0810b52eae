// The cluster snapshot: each resource listed once per run (paginated), projected to what the checks judge,
// plus the apiserver's health endpoints and its serving certificate. Checks never call the API.
import { connect as tlsConnect } from 'node:tls';
import { request as httpsRequest } from 'node:https';
import { type Probe, known, unknown } from '../core/facts.js';
import { ApiError, type KubeApi } from './api.js';
import { detectClusterProfile, profileNamed } from '../profiles/profiles.js';
import type { Listed } from '../core/cluster.js';
import type { SnapshotScope } from '../core/runner.js';

export type { ClusterSnapshot, Condition, ContainerInfo, LeaseInfo, NodeInfo, PodInfo, TokenInfo, WorkloadInfo } from '../core/cluster.js';
import type { ClusterSnapshot, Condition, ContainerInfo, LeaseInfo, NodeInfo, PodInfo, TokenInfo, WorkloadInfo } from '../core/cluster.js';

export const SYSTEM_NAMESPACES = ['kube-system', 'kube-flannel'];

interface Meta {
  metadata?: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    ownerReferences?: { kind: string; name: string; controller?: boolean }[];
  };
}

interface RawNode extends Meta {
  spec?: { podCIDR?: string; podCIDRs?: string[]; unschedulable?: boolean };
  status?: { conditions?: Condition[]; addresses?: { type: string; address: string }[]; nodeInfo?: { kubeletVersion?: string } };
}

interface RawContainerStatus {
  name: string;
  image: string;
  ready: boolean;
  restartCount: number;
  state?: { waiting?: { reason?: string; message?: string } };
  lastState?: { terminated?: { reason?: string; exitCode?: number; finishedAt?: string } };
}

interface RawPod extends Meta {
  spec?: { nodeName?: string; containers?: { name: string; image: string }[] };
  status?: { phase?: string; reason?: string; message?: string; conditions?: Condition[]; containerStatuses?: RawContainerStatus[] };
}

interface RawLease extends Meta {
  spec?: { holderIdentity?: string; renewTime?: string; leaseDurationSeconds?: number };
}

interface RawWorkload extends Meta {
  spec?: { replicas?: number; template?: { spec?: { containers?: { image: string }[] } } };
  status?: {
    desiredNumberScheduled?: number; numberReady?: number; numberAvailable?: number; updatedNumberScheduled?: number;
    replicas?: number; readyReplicas?: number; availableReplicas?: number; updatedReplicas?: number;
  };
}

interface RawSecret extends Meta {
  type?: string;
  data?: Record<string, string>;
}

const decode = (b64: string | undefined) => (b64 === undefined ? undefined : Buffer.from(b64, 'base64').toString('utf8'));

export const projectNode = (n: RawNode): NodeInfo => ({
  name: n.metadata?.name ?? '',
  labels: n.metadata?.labels ?? {},
  annotations: Object.fromEntries(Object.entries(n.metadata?.annotations ?? {}).filter(([k]) => k.startsWith('flannel.') || k.startsWith('kwok.'))),
  podCIDRs: n.spec?.podCIDRs ?? (n.spec?.podCIDR ? [n.spec.podCIDR] : []),
  kubeletVersion: n.status?.nodeInfo?.kubeletVersion ?? '',
  conditions: (n.status?.conditions ?? []).map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message, lastHeartbeatTime: c.lastHeartbeatTime, lastTransitionTime: c.lastTransitionTime })),
  addresses: n.status?.addresses ?? [],
  unschedulable: n.spec?.unschedulable === true,
  ...(n.metadata?.creationTimestamp ? { createdAt: n.metadata.creationTimestamp } : {}),
});

export const projectPod = (p: RawPod): PodInfo => {
  const owner = p.metadata?.ownerReferences?.find((o) => o.controller) ?? p.metadata?.ownerReferences?.[0];
  return {
    namespace: p.metadata?.namespace ?? '',
    name: p.metadata?.name ?? '',
    ...(p.spec?.nodeName ? { node: p.spec.nodeName } : {}),
    phase: p.status?.phase ?? 'Unknown',
    labels: p.metadata?.labels ?? {},
    ...(owner ? { owner: { kind: owner.kind, name: owner.name } } : {}),
    ready: (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
    containers: (p.status?.containerStatuses ?? []).map((c) => ({
      name: c.name,
      image: c.image,
      ready: c.ready,
      restarts: c.restartCount,
      ...(c.state?.waiting ? { waiting: { reason: c.state.waiting.reason, message: c.state.waiting.message } } : {}),
      ...(c.lastState?.terminated ? { lastTerminated: c.lastState.terminated } : {}),
    })),
    ...(p.metadata?.creationTimestamp ? { createdAt: p.metadata.creationTimestamp } : {}),
    deleting: p.metadata?.deletionTimestamp !== undefined,
    ...(p.status?.reason ? { reason: p.status.reason } : {}),
    ...(p.status?.message ? { message: p.status.message } : {}),
  };
};

export const projectLease = (l: RawLease): LeaseInfo => ({
  namespace: l.metadata?.namespace ?? '',
  name: l.metadata?.name ?? '',
  ...(l.spec?.holderIdentity ? { holder: l.spec.holderIdentity } : {}),
  ...(l.spec?.renewTime ? { renewTime: l.spec.renewTime } : {}),
  ...(l.spec?.leaseDurationSeconds !== undefined ? { durationSeconds: l.spec.leaseDurationSeconds } : {}),
});

export const projectWorkload = (w: RawWorkload): WorkloadInfo => {
  const s = w.status ?? {};
  const daemon = s.desiredNumberScheduled !== undefined;
  return {
    namespace: w.metadata?.namespace ?? '',
    name: w.metadata?.name ?? '',
    labels: w.metadata?.labels ?? {},
    desired: daemon ? s.desiredNumberScheduled ?? 0 : w.spec?.replicas ?? s.replicas ?? 0,
    ready: (daemon ? s.numberReady : s.readyReplicas) ?? 0,
    available: (daemon ? s.numberAvailable : s.availableReplicas) ?? 0,
    updated: (daemon ? s.updatedNumberScheduled : s.updatedReplicas) ?? 0,
    images: (w.spec?.template?.spec?.containers ?? []).map((c) => c.image),
  };
};

/** Only the token id, expiration, usages and description are read: the token-secret never leaves here. */
export const projectToken = (s: RawSecret): TokenInfo => {
  const d = s.data ?? {};
  const usages = Object.keys(d).filter((k) => k.startsWith('usage-bootstrap-') && decode(d[k]) === 'true').map((k) => k.slice('usage-bootstrap-'.length));
  const expiration = decode(d.expiration);
  const description = decode(d.description);
  return {
    id: decode(d['token-id']) ?? (s.metadata?.name ?? '').replace(/^bootstrap-token-/, ''),
    ...(expiration ? { expiration } : {}),
    usages,
    ...(description ? { description } : {}),
    deleting: s.metadata?.deletionTimestamp !== undefined,
  };
};

function probeError<T>(err: unknown): Probe<T> {
  if (err instanceof ApiError && (err.status === 401 || err.status === 403)) return unknown('denied', err.message);
  if (err instanceof ApiError && err.status === 404) return unknown('missing', err.message);
  return unknown('error', err instanceof Error ? err.message : String(err));
}

/** The apiserver's serving certificate, read from a TLS handshake (its dates, whatever the client trusts). */
export function servingCertificate(server: URL, timeoutMs: number): Promise<Probe<{ subject: string; notAfter: string }>> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: server.hostname, port: Number(server.port || 443), servername: /^[\d.]+$|:/.test(server.hostname) ? undefined : server.hostname, rejectUnauthorized: false, timeout: timeoutMs });
    const done = (p: Probe<{ subject: string; notAfter: string }>) => {
      socket.destroy();
      resolve(p);
    };
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate();
      if (!cert || !cert.valid_to) return done(unknown('error', 'the server presented no certificate'));
      done(known({ subject: cert.subject?.CN ? `CN=${cert.subject.CN}` : JSON.stringify(cert.subject), notAfter: new Date(cert.valid_to).toISOString() }));
    });
    socket.once('timeout', () => done(unknown('error', `TLS handshake with ${server.host} timed out`)));
    socket.once('error', (err: Error) => done(unknown('error', `TLS handshake with ${server.host}: ${err.message}`)));
  });
}

/** GET https://HOST:PORT/healthz anonymously (kubeadm's scheduler and controller-manager allow it). */
function probeHealthz(host: string, port: number, timeoutMs: number): Promise<Probe<{ ok: boolean; detail: string }>> {
  return new Promise((resolve) => {
    const req = httpsRequest({ host, port, path: '/healthz', rejectUnauthorized: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(known({ ok: res.statusCode === 200 && body.trim() === 'ok', detail: `HTTP ${res.statusCode}: ${body.trim().slice(0, 200)}` })));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (err: NodeJS.ErrnoException) => resolve(unknown('unavailable', `${host}:${port} not reachable (${err.code ?? err.message})`)));
    req.end();
  });
}

/** /readyz?verbose lines: `[+]etcd ok`, `[-]etcd failed: reason withheld`. */
export function parseVerboseHealth(body: string): { checks: string[]; failing: string[] } {
  const checks: string[] = [];
  const failing: string[] = [];
  for (const line of body.split('\n')) {
    const m = /^\[([+-])\]([^\s]+)/.exec(line.trim());
    if (!m) continue;
    checks.push(m[2]);
    if (m[1] === '-') failing.push(m[2]);
  }
  return { checks, failing };
}

async function health(api: KubeApi, path: string, signal?: AbortSignal): Promise<Probe<{ ok: boolean; body: string }>> {
  try {
    const res = await api.request('GET', path, { accept: 'text/plain', ...(signal ? { signal } : {}) });
    if (res.status === 401 || res.status === 403) return unknown('denied', `GET ${path}: HTTP ${res.status}: ${res.body.trim().slice(0, 200)}`);
    return known({ ok: res.status === 200, body: res.body.trim() });
  } catch (err: unknown) {
    return probeError(err);
  }
}

export interface SnapshotOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Probe scheduler/controller-manager health endpoints on the apiserver's host. */
  probeComponents?: boolean;
  /** Judge the cluster as this install (--profile) instead of the one detected. */
  profile?: string;
  /** Only what host checks need ('nodes': the version and the nodes; 'version'); the rest says it was not read. */
  scope?: SnapshotScope;
}

/** Takes the snapshot: every list at once (each resource once, paginated), then the health probes. */
export async function takeSnapshot(api: KubeApi, options: SnapshotOptions = {}): Promise<ClusterSnapshot> {
  const signal = options.signal;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const opts = signal ? { signal } : {};
  const full = (options.scope ?? 'cluster') === 'cluster';
  const withNodes = full || options.scope === 'nodes';
  // Host checks alone read no more than the nodes and the version: the rest is said to be not read.
  const NOT_READ = 'not read: this run has no cluster check';
  const probe = <T>(read: () => Promise<Probe<T>>): Promise<Probe<T>> => (full ? read() : Promise.resolve(unknown<T>('unavailable', NOT_READ)));
  const listed = <T>(read: () => Promise<Listed<T>>): Promise<Listed<T>> => (full ? read() : Promise.resolve({ ok: false, detail: NOT_READ, forbidden: false }));
  const listIn = <T, P>(namespaces: string[], resource: string, project: (x: T) => P, query?: Record<string, string>) =>
    listed(() => Promise.all(namespaces.map((ns) => api.list<T, P>(resource.replace('{ns}', ns), project, { ...opts, ...(query ? { query } : {}) }))).then(mergeListed));

  const [version, livez, readyzRaw, servingCert, nodes, systemPods, nodeLeases, systemLeases, daemonSets, deployments, tokens, clusterInfo, flannel, kubeadm] = await Promise.all([
    api.getJson<{ gitVersion: string; major: string; minor: string }>('/version', signal).then(known, probeError<{ gitVersion: string; major: string; minor: string }>),
    probe(() => health(api, '/livez', signal)),
    probe(() => health(api, '/readyz?verbose', signal)),
    probe(() => (api.server.protocol === 'https:' ? servingCertificate(api.server, timeoutMs) : Promise.resolve(unknown<{ subject: string; notAfter: string }>('unavailable', 'the API server is not served over TLS')))),
    withNodes ? api.list<RawNode, NodeInfo>('/api/v1/nodes', projectNode, opts) : Promise.resolve<Listed<NodeInfo>>({ ok: false, detail: NOT_READ, forbidden: false }),
    listIn<RawPod, PodInfo>(SYSTEM_NAMESPACES, '/api/v1/namespaces/{ns}/pods', projectPod),
    listed(() => api.list<RawLease, LeaseInfo>('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', projectLease, opts)),
    listed(() => api.list<RawLease, LeaseInfo>('/apis/coordination.k8s.io/v1/namespaces/kube-system/leases', projectLease, opts)),
    listIn<RawWorkload, WorkloadInfo>(SYSTEM_NAMESPACES, '/apis/apps/v1/namespaces/{ns}/daemonsets', projectWorkload),
    listed(() => api.list<RawWorkload, WorkloadInfo>('/apis/apps/v1/namespaces/kube-system/deployments', projectWorkload, opts)),
    listed(() => api.list<RawSecret, TokenInfo>('/api/v1/namespaces/kube-system/secrets', projectToken, { ...opts, query: { fieldSelector: 'type=bootstrap.kubernetes.io/token' } })),
    probe(() => api.getJson<{ data?: Record<string, string> }>('/api/v1/namespaces/kube-public/configmaps/cluster-info', signal).then(
      (cm) => known(Object.keys(cm.data ?? {}).filter((k) => k.startsWith('jws-kubeconfig-')).map((k) => k.slice('jws-kubeconfig-'.length))),
      probeError<string[]>,
    )),
    probe(() => api.getJson<{ data?: Record<string, string> }>('/api/v1/namespaces/kube-flannel/configmaps/kube-flannel-cfg', signal).then(
      (cm) => {
        const raw = cm.data?.['net-conf.json'] ?? '';
        try {
          const conf = JSON.parse(raw) as { Network?: string; Backend?: { Type?: string } };
          return known({ ...(conf.Network ? { network: conf.Network } : {}), ...(conf.Backend?.Type ? { backend: conf.Backend.Type } : {}), raw });
        } catch {
          return unknown<{ network?: string; backend?: string; raw: string }>('error', `net-conf.json is not valid JSON: ${raw.slice(0, 200)}`);
        }
      },
      probeError<{ network?: string; backend?: string; raw: string }>,
    )),
    probe(() => api.getJson<{ data?: Record<string, string> }>('/api/v1/namespaces/kube-system/configmaps/kubeadm-config', signal).then(
      (cm) => {
        const m = /podSubnet:\s*"?([0-9a-f.:/,]+)"?/.exec(cm.data?.ClusterConfiguration ?? '');
        return m ? known(m[1]) : unknown<string>('unavailable', 'kubeadm-config has no networking.podSubnet');
      },
      probeError<string>,
    )),
  ]);
  const { checks, failing } = readyzRaw.ok ? parseVerboseHealth(readyzRaw.value.body) : { checks: [], failing: [] };
  const readyz = readyzRaw.ok ? known({ ok: readyzRaw.value.ok, failing, checks, body: readyzRaw.value.body }) : readyzRaw;

  const host = api.server.hostname;
  const componentHealth = options.probeComponents === false || !full
    ? { 'kube-scheduler': unknown<{ ok: boolean; detail: string }>('unavailable', 'not probed'), 'kube-controller-manager': unknown<{ ok: boolean; detail: string }>('unavailable', 'not probed') }
    : {
        'kube-scheduler': await probeHealthz(host, 10259, Math.min(timeoutMs, 3000)),
        'kube-controller-manager': await probeHealthz(host, 10257, Math.min(timeoutMs, 3000)),
      };

  const detected = detectClusterProfile({
    nodes: nodes.ok ? nodes.items : [],
    daemonSets: daemonSets.ok ? daemonSets.items : [],
    staticControlPlane: systemPods.ok && systemPods.items.some((p) => p.namespace === 'kube-system' && /^kube-apiserver-/.test(p.name) && p.owner?.kind === 'Node'),
    kubeadmConfig: kubeadm.ok || kubeadm.reason === 'unavailable',
  });
  const forced = options.profile ? profileNamed(options.profile) : undefined;
  const profile = forced ? { name: forced.name, cni: detected.cni, why: '--profile' } : detected;

  return {
    server: api.server.origin,
    profile,
    takenAt: new Date(),
    version,
    livez,
    readyz,
    servingCert,
    nodes,
    systemPods,
    nodeLeases,
    systemLeases,
    daemonSets,
    deployments,
    tokens,
    clusterInfoSignatures: clusterInfo,
    flannelNetConf: flannel,
    kubeadmPodSubnet: kubeadm,
    componentHealth,
  };
}

/** Lists of several namespaces as one: a denied namespace makes the whole list denied (the check says which). */
function mergeListed<T>(parts: Listed<T>[]): Listed<T> {
  const bad = parts.find((p) => !p.ok);
  if (bad) return bad;
  return { ok: true, items: parts.flatMap((p) => (p.ok ? p.items : [])) };
}
