import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Host tests create network namespaces: one file at a time keeps them from fighting over addresses.
    fileParallelism: false,
    // The real control plane (etcd, apiserver, controller-manager, scheduler, KWOK), started once.
    globalSetup: ['test/cluster-setup.ts'],
    reporters: ['default', ['json', { outputFile: '.vitest-results.json' }]],
  },
});
