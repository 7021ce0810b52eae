// vitest global setup: builds (once, cached) and starts the real control plane for the cluster tests,
// and stops it afterwards whatever happened. The real cluster (scripts/realcluster.ts) is started by the
// first test file that needs it and shared by the others; it is removed here, at the end, in any case.
import { buildControlPlane, startCluster, stopCluster } from '../scripts/controlplane.js';
import { buildNodeBinaries } from '../scripts/node-binaries.js';
import { downRealCluster } from '../scripts/realcluster.js';

export default async function setup({ provide }: { provide: (key: string, value: unknown) => void }) {
  await buildControlPlane();
  // The preinstalled test hosts carry the real kubelet and crictl (cached after the first build).
  await buildNodeBinaries();
  const cluster = await startCluster();
  provide('kubeconfig', cluster.kubeconfig);
  provide('clusterDir', cluster.dir);
  return async () => {
    await stopCluster();
    await downRealCluster();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    kubeconfig: string;
    clusterDir: string;
  }
}
