// Populates the test control plane like a kubeadm + flannel cluster: KWOK nodes with podCIDRs, kube-proxy
// and kube-flannel DaemonSets, CoreDNS, flannel's net-conf, kubeadm-config and a bootstrap token.
// KWOK makes the nodes Ready and the pods Running; nothing here is a container.
import { randomBytes } from 'node:crypto';
import { ApiError, KubeApi } from '../src/k8s/api.js';

export const KWOK_ANNOTATION = 'kwok.x-k8s.io/node';
const json = (o: unknown) => o;

async function apply(api: KubeApi, collection: string, obj: { metadata: { name: string } }): Promise<void> {
  try {
    await api.send('POST', collection, obj);
  } catch (err: unknown) {
    if (!(err instanceof ApiError && err.status === 409)) throw err;
    await api.send('PUT', `${collection}/${obj.metadata.name}`, obj);
  }
}

export function kwokNode(name: string, labels: Record<string, string> = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { [KWOK_ANNOTATION]: 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', type: 'kwok', ...labels },
    },
    spec: {},
  };
}

/** Creates nodes (in parallel batches) for KWOK to manage. */
export async function createNodes(api: KubeApi, names: string[], concurrency = 32, labels: Record<string, string> = {}): Promise<void> {
  for (let i = 0; i < names.length; i += concurrency) {
    await Promise.all(names.slice(i, i + concurrency).map((n) => apply(api, '/api/v1/nodes', kwokNode(n, labels))));
  }
}

const tolerateAll = [{ operator: 'Exists' }];

export function daemonSet(namespace: string, name: string, labels: Record<string, string>, image: string) {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name, namespace, labels },
    spec: {
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { tolerations: tolerateAll, containers: [{ name, image }], nodeSelector: { type: 'kwok' } },
      },
    },
  };
}

export async function ensureNamespace(api: KubeApi, name: string, labels: Record<string, string> = {}): Promise<void> {
  await apply(api, '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } } as { metadata: { name: string } });
}

/** The flannel ConfigMap as kube-flannel.yml ships it, with the given Network. */
export function flannelConfigMap(network: string) {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'kube-flannel-cfg', namespace: 'kube-flannel', labels: { app: 'flannel', 'k8s-app': 'flannel' } },
    data: {
      'cni-conf.json': JSON.stringify({ name: 'cbr0', cniVersion: '0.3.1', plugins: [{ type: 'flannel', delegate: { hairpinMode: true, isDefaultGateway: true } }, { type: 'portmap', capabilities: { portMappings: true } }] }),
      'net-conf.json': JSON.stringify({ Network: network, EnableNFTables: false, Backend: { Type: 'vxlan' } }),
    },
  };
}

/** The add-ons of a kubeadm + flannel cluster, healthy. */
export async function installSystem(api: KubeApi, options: { podSubnet?: string } = {}): Promise<void> {
  const podSubnet = options.podSubnet ?? '10.244.0.0/16';
  await ensureNamespace(api, 'kube-flannel', { 'k8s-app': 'flannel' });
  await apply(api, '/apis/apps/v1/namespaces/kube-system/daemonsets', daemonSet('kube-system', 'kube-proxy', { 'k8s-app': 'kube-proxy' }, 'registry.k8s.io/kube-proxy:v1.33.13'));
  await apply(api, '/apis/apps/v1/namespaces/kube-flannel/daemonsets', daemonSet('kube-flannel', 'kube-flannel-ds', { app: 'flannel', 'k8s-app': 'flannel' }, 'ghcr.io/flannel-io/flannel:v0.26.7'));
  await apply(api, '/api/v1/namespaces/kube-flannel/configmaps', flannelConfigMap(podSubnet));
  await apply(api, '/apis/apps/v1/namespaces/kube-system/deployments', json({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'coredns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { 'k8s-app': 'kube-dns' } },
      template: { metadata: { labels: { 'k8s-app': 'kube-dns' } }, spec: { tolerations: tolerateAll, nodeSelector: { type: 'kwok' }, containers: [{ name: 'coredns', image: 'registry.k8s.io/coredns/coredns:v1.12.0' }] } },
    },
  }) as { metadata: { name: string } });
  await apply(api, '/api/v1/namespaces/kube-system/configmaps', {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'kubeadm-config', namespace: 'kube-system' },
    data: { ClusterConfiguration: `apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nkubernetesVersion: v1.33.13\nnetworking:\n  podSubnet: ${podSubnet}\n  serviceSubnet: 10.96.0.0/12\n` },
  } as { metadata: { name: string } });
  await ensureClusterInfo(api);
}

/** kube-public/cluster-info, as kubeadm init makes it (the bootstrapsigner adds the JWS signatures). */
async function ensureClusterInfo(api: KubeApi): Promise<void> {
  const server = api.server.origin;
  const kubeconfig = `apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: ${server}\n  name: ""\ncontexts: null\ncurrent-context: ""\nusers: null\n`;
  await apply(api, '/api/v1/namespaces/kube-public/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cluster-info', namespace: 'kube-public' }, data: { kubeconfig } } as { metadata: { name: string } });
}

/** A bootstrap token secret as `kubeadm token create` makes it; returns its id. */
export async function createToken(api: KubeApi, options: { expiresInSeconds?: number | null; finalizer?: string } = {}): Promise<string> {
  const id = randomBytes(3).toString('hex');
  const secret = randomBytes(8).toString('hex');
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const data: Record<string, string> = {
    'token-id': b64(id),
    'token-secret': b64(secret),
    'usage-bootstrap-authentication': b64('true'),
    'usage-bootstrap-signing': b64('true'),
    'auth-extra-groups': b64('system:bootstrappers:kubeadm:default-node-token'),
  };
  if (options.expiresInSeconds !== null) {
    data.expiration = b64(new Date(Date.now() + (options.expiresInSeconds ?? 86_400) * 1000).toISOString().replace(/\.\d+Z$/, 'Z'));
  }
  await api.send('POST', '/api/v1/namespaces/kube-system/secrets', {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'bootstrap.kubernetes.io/token',
    metadata: { name: `bootstrap-token-${id}`, namespace: 'kube-system', ...(options.finalizer ? { finalizers: [options.finalizer] } : {}) },
    data,
  });
  return id;
}

/** Deletes a bootstrap token, removing a test finalizer first. */
export async function deleteToken(api: KubeApi, id: string): Promise<void> {
  const path = `/api/v1/namespaces/kube-system/secrets/bootstrap-token-${id}`;
  try {
    await api.send('PATCH', path, { metadata: { finalizers: null } }, undefined, 'application/merge-patch+json');
    await api.send('DELETE', path, undefined);
  } catch (err: unknown) {
    if (!(err instanceof ApiError && err.status === 404)) throw err;
  }
}

/** Waits until `probe` is true, polling (test setup only), bounded by `ms`. */
export async function until(what: string, ms: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
}
