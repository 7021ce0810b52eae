import { known } from '../../src/core/facts.js';
import {
  type ClusterSnapshot, parseVerboseHealth, projectLease, projectNode, projectPod, projectToken, projectWorkload,
} from '../../src/k8s/snapshot.js';
import { fixture } from '../helpers.js';

const items = <T = never>(file: string): T[] => (JSON.parse(fixture(`cluster/${file}.json`)) as { items: T[] }).items;
const listed = <T>(xs: T[]) => ({ ok: true as const, items: xs });

/** A snapshot built from API objects recorded on the test control plane (kubeadm-like, 2 KWOK nodes). */
export function recordedSnapshot(): ClusterSnapshot {
  const readyz = fixture('cluster/readyz-verbose.txt');
  const version = JSON.parse(fixture('cluster/version.json')) as { gitVersion: string; major: string; minor: string };
  const info = JSON.parse(fixture('cluster/cluster-info.json')) as { data: Record<string, string> };
  return {
    server: 'https://127.0.0.1:6443',
    takenAt: RECORDED_AT,
    version: known(version),
    livez: known({ ok: true, body: 'ok' }),
    readyz: known({ ok: true, ...parseVerboseHealth(readyz), body: readyz }),
    servingCert: known({ subject: 'CN=kube-apiserver', notAfter: '2027-11-22T17:06:00.000Z' }),
    nodes: listed(items('nodes').map(projectNode)),
    systemPods: listed([...items('pods-kube-system'), ...items('pods-kube-flannel')].map(projectPod)),
    nodeLeases: listed(items('leases-kube-node-lease').map(projectLease)),
    systemLeases: listed(items('leases-kube-system').map(projectLease)),
    daemonSets: listed(items('daemonsets').map(projectWorkload)),
    deployments: listed(items('deployments-kube-system').map(projectWorkload)),
    tokens: listed(items('bootstrap-tokens').map(projectToken)),
    clusterInfoSignatures: known(Object.keys(info.data).filter((k) => k.startsWith('jws-kubeconfig-')).map((k) => k.slice('jws-kubeconfig-'.length))),
    flannelNetConf: known({ network: '10.244.0.0/16', backend: 'vxlan', raw: '{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}' }),
    kubeadmPodSubnet: known('10.244.0.0/16'),
    componentHealth: {
      'kube-scheduler': known({ ok: true, detail: 'HTTP 200: ok' }),
      'kube-controller-manager': known({ ok: true, detail: 'HTTP 200: ok' }),
    },
  };
}

/** Just after the recording: every lease fresh. */
const renewTimes = items<{ spec: { renewTime: string } }>('leases-kube-node-lease').map((l) => Date.parse(l.spec.renewTime));
export const RECORDED_AT = new Date(Math.max(...renewTimes) + 5_000);
