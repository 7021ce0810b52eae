// What an in-cluster collection creates: a namespace of its own (labelled managed-by=kubecheck, allowed
// privileged pods by PodSecurity) and a DaemonSet whose pod on each node shares the host's PID and network
// namespaces and sees the host's root read-only at /host. The pod only sleeps; kubecheck runs its node
// collector in it through exec, under `chroot /host`, so the host's own tools read the host.
import { COLLECTOR_LABEL, MANAGED_BY } from '../k8s/managed.js';

/** The collector image's repository and tag (the package version) in a registry or mirror. */
export const COLLECTOR_REPOSITORY = 'kubecheck/collector';
export const COLLECTOR_NAME = 'kubecheck-collector';
export const COLLECTOR_CONTAINER = 'collector';
/** Where the host's root is mounted in the collector's container. */
export const HOST_ROOT = '/host';

/** The collector image: --collector-image as given, else REGISTRY/kubecheck/collector:VERSION. */
export function collectorImage(options: { image?: string; registry?: string; version: string }): string | undefined {
  if (options.image) return options.image;
  if (!options.registry) return undefined;
  return `${options.registry.replace(/\/+$/, '')}/${COLLECTOR_REPOSITORY}:${options.version}`;
}

export interface CollectionSpec {
  namespace: string;
  image: string;
  /** Only nodes with these labels (the DaemonSet's nodeSelector). */
  nodeSelector?: Record<string, string>;
  /** Only these nodes (doctor's NotReady nodes): a required node affinity on their names. */
  nodes?: string[];
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
}

const labels = (extra: Record<string, string> = {}) => ({ [MANAGED_BY.key]: MANAGED_BY.value, 'app.kubernetes.io/name': COLLECTOR_NAME, ...extra });

export function collectorNamespace(spec: CollectionSpec): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: spec.namespace,
      labels: {
        ...labels({ [COLLECTOR_LABEL]: 'true' }),
        // The pods share the host's PID and network namespaces and mount its root: PodSecurity's privileged level.
        'pod-security.kubernetes.io/enforce': 'privileged',
        'pod-security.kubernetes.io/warn': 'privileged',
        'pod-security.kubernetes.io/audit': 'privileged',
      },
    },
  };
}

export function collectorDaemonSet(spec: CollectionSpec): Record<string, unknown> {
  const select = { 'app.kubernetes.io/name': COLLECTOR_NAME };
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: COLLECTOR_NAME, namespace: spec.namespace, labels: labels() },
    spec: {
      selector: { matchLabels: select },
      template: {
        metadata: { labels: labels() },
        spec: {
          hostPID: true,
          hostNetwork: true,
          dnsPolicy: 'ClusterFirstWithHostNet',
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          terminationGracePeriodSeconds: 1,
          // Every node, whatever its taints: NotReady, cordoned, control planes.
          tolerations: [{ operator: 'Exists' }],
          ...(spec.nodeSelector && Object.keys(spec.nodeSelector).length ? { nodeSelector: spec.nodeSelector } : {}),
          ...(spec.nodes?.length
            ? { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: spec.nodes }] }] } } } }
            : {}),
          containers: [{
            name: COLLECTOR_CONTAINER,
            image: spec.image,
            imagePullPolicy: spec.imagePullPolicy ?? 'IfNotPresent',
            // Sleeps until deleted (and exits at once on TERM); every command comes through exec.
            command: ['/bin/sh', '-c', "trap 'exit 0' TERM INT; sleep 2147483647 & wait"],
            securityContext: { privileged: true },
            resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '256Mi' } },
            volumeMounts: [{ name: 'host', mountPath: HOST_ROOT, readOnly: true, recursiveReadOnly: 'IfPossible' }],
          }],
          volumes: [{ name: 'host', hostPath: { path: '/' } }],
        },
      },
    },
  };
}
