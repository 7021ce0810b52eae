import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';

/**
 * The real-cluster tests (test/real/) run last, in a fixed order, so the real cluster they share is up
 * only while they run and never loads the host and control-plane tests with its kubelets and pods.
 */
class RealClusterLast extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const order = ['cluster', 'incluster', 'workloads', 'fix', 'doctor'];
    const rank = (f: TestSpecification) => {
      const m = /\/test\/real\/([a-z-]+)\.test\.ts$/.exec(f.moduleId);
      return m ? 1 + (order.indexOf(m[1]) + 1 || order.length + 1) : 0;
    };
    return sorted.map((f, i) => ({ f, i })).sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i).map((x) => x.f);
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Host tests create network namespaces: one file at a time keeps them from fighting over addresses.
    fileParallelism: false,
    sequence: { sequencer: RealClusterLast },
    // The real control plane (etcd, apiserver, controller-manager, scheduler, KWOK), started once; the
    // real cluster is removed at the end too.
    globalSetup: ['test/cluster-setup.ts'],
    reporters: ['default', ['json', { outputFile: '.vitest-results.json' }]],
  },
});
