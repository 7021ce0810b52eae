// The Kubernetes version a host is judged for before an install: the suite's `kubernetesVersion`, the
// cluster's when one was given, the kubeadm installed on the host, else kubecheck's default.
import type { NodeFacts } from '../../src/core/facts.js';
import type { HostContext } from '../../src/core/types.js';
import { DEFAULT_KUBERNETES_VERSION } from '../../src/profiles/kubeadm-spec.js';

export interface TargetVersion {
  minor: number;
  version: string;
  from: string;
}

const minorOf = (v: string) => Number(/^v?\d+\.(\d+)/.exec(v)?.[1]);

export const VERSION_PARAM = { kubernetesVersion: { type: 'string', pattern: '^v?\\d+\\.\\d+(\\.\\d+)?', description: 'the version to be installed (default: the cluster\'s, the host\'s kubeadm, else v1.33)' } };

export function targetVersion(facts: NodeFacts, ctx: HostContext): TargetVersion {
  const param = typeof ctx.params.kubernetesVersion === 'string' ? ctx.params.kubernetesVersion : undefined;
  if (param) return { minor: minorOf(param), version: param.startsWith('v') ? param : `v${param}`, from: 'the suite' };
  if (ctx.clusterMinor !== undefined) return { minor: ctx.clusterMinor, version: `v1.${ctx.clusterMinor}`, from: 'the cluster' };
  if (facts.versions.kubeadm) return { minor: minorOf(facts.versions.kubeadm), version: facts.versions.kubeadm, from: 'the kubeadm on the host' };
  return { minor: minorOf(DEFAULT_KUBERNETES_VERSION), version: DEFAULT_KUBERNETES_VERSION, from: 'kubecheck\'s default' };
}
