// The check registry: a static list. Adding a check touches its own file and one line here.
import type { Check } from '../src/core/types.js';
import type { KubeApi } from '../src/k8s/api.js';
import { clockSkew } from './fleet/clock-skew.js';
import { hostnameUnique } from './fleet/hostname-unique.js';
import { macUnique } from './fleet/mac-unique.js';
import { productUuidUnique } from './fleet/product-uuid-unique.js';
import { nodeIp } from './fleet/node-ip.js';
import { reachability } from './fleet/reachability.js';
import { apiserver } from './cluster/apiserver.js';
import { controllerManager } from './cluster/controller-manager.js';
import { coredns } from './cluster/coredns.js';
import { etcd } from './cluster/etcd.js';
import { kubeProxy } from './cluster/kube-proxy.js';
import { nodes } from './cluster/nodes.js';
import { scheduler } from './cluster/scheduler.js';
import { systemPods } from './cluster/system-pods.js';
import { bootstrap } from './token/bootstrap.js';
import { cni0 } from './cni/cni0.js';
import { config as cniConfig } from './cni/config.js';
import { flannelDaemonset } from './cni/flannel-daemonset.js';
import { flannelPlugin } from './cni/flannel-plugin.js';
import { flannelSubnet } from './cni/flannel-subnet.js';
import { flannelVxlan } from './cni/flannel-vxlan.js';
import { binaries } from './node/binaries.js';
import { certificates } from './node/certificates.js';
import { disk } from './node/disk.js';
import { hostname } from './node/hostname.js';
import { leftovers } from './node/leftovers.js';
import { persisted } from './node/persisted.js';
import { proxy } from './node/proxy.js';
import { registry } from './node/registry.js';
import { system } from './node/system.js';
import { timeSync } from './node/time-sync.js';
import { cgroupDriver } from './node/cgroup-driver.js';
import { firewall } from './node/firewall.js';
import { kubelet } from './node/kubelet.js';
import { ports } from './node/ports.js';
import { resources } from './node/resources.js';
import { runtime } from './node/runtime.js';
import { selinux } from './node/selinux.js';
import { services } from './node/services.js';
import { swap } from './node/swap.js';
import { sysctl } from './node/sysctl.js';
import { canary } from './workloads/canary.js';
import { configmapReload } from './workloads/configmap-reload.js';
import { secretRestart } from './workloads/secret-restart.js';

export const CHECKS: readonly Check<KubeApi>[] = [
  swap,
  sysctl,
  ports,
  resources,
  runtime,
  kubelet,
  services,
  certificates,
  cgroupDriver,
  firewall,
  selinux,
  system,
  binaries,
  hostname,
  proxy,
  leftovers,
  persisted,
  timeSync,
  disk,
  registry,
  productUuidUnique,
  macUnique,
  hostnameUnique,
  clockSkew,
  nodeIp,
  reachability,
  flannelPlugin,
  cniConfig,
  flannelSubnet,
  cni0,
  flannelVxlan,
  apiserver,
  etcd,
  scheduler,
  controllerManager,
  nodes,
  kubeProxy,
  coredns,
  systemPods,
  bootstrap,
  flannelDaemonset,
  canary,
  configmapReload,
  secretRestart,
];

const byId = new Map(CHECKS.map((c) => [c.id, c]));

export function findCheck(id: string): Check<KubeApi> | undefined {
  return byId.get(id);
}
