// vitest global setup: builds (once, cached) and starts the real control plane for the cluster tests,
// and stops it afterwards whatever happened.
import { buildControlPlane, startCluster, stopCluster } from '../scripts/controlplane.js';

export default async function setup({ provide }: { provide: (key: string, value: unknown) => void }) {
  await buildControlPlane();
  const cluster = await startCluster();
  provide('kubeconfig', cluster.kubeconfig);
  provide('clusterDir', cluster.dir);
  return async () => {
    await stopCluster();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    kubeconfig: string;
    clusterDir: string;
  }
}
