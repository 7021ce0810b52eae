import type { ClusterSnapshot } from '../../src/core/cluster.js';
import { skip } from '../../src/core/findings.js';
import type { Finding } from '../../src/core/types.js';
import { PROFILES, profileNamed } from '../../src/profiles/profiles.js';

/**
 * The skip for a check of a DaemonSet the cluster's install does not run as one: kube-proxy and flannel
 * inside k3s's binary, or as host services in a binary install (node.services judges those on each host).
 */
export function notADaemonSet(s: ClusterSnapshot, what: 'kubeProxy' | 'flannel'): Finding | undefined {
  const profile = profileNamed(s.profile?.name ?? 'kubeadm') ?? PROFILES.kubeadm;
  const runsAs = profile.cluster[what];
  const name = what === 'kubeProxy' ? 'kube-proxy' : 'flannel';
  if (runsAs === 'embedded') return skip(`${name} runs inside ${profile.name} here, not as a DaemonSet (profile ${profile.name}: ${s.profile?.why ?? 'default'})`, { code: 'not-applicable' });
  if (runsAs === 'host-service') return skip(`${name} runs as a host service in a ${profile.name} install, not as a DaemonSet: node.services checks it on each host (profile: ${s.profile?.why ?? 'default'})`, { code: 'not-applicable' });
  return undefined;
}
