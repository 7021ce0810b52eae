#!/usr/bin/env node
// Bundles the CLI into one file (dist/kubecheck.mjs): loading ~300 small modules of ajv, yaml and
// commander one by one costs a fleet run more CPU than all its hosts' parsing. Heavy or native packages
// stay external and load only when a command needs them.
import { build } from 'esbuild';

await build({
  entryPoints: ['dist/src/cli.js'],
  outfile: 'dist/kubecheck.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
  external: ['ssh2', '@kubernetes/client-node', 'ws', 'zx', 'ora', 'junit-report-builder'],
  // CommonJS dependencies bundled into ESM still call require() for Node's built-ins.
  banner: { js: "import { createRequire as __kcRequire } from 'node:module'; const require = __kcRequire(import.meta.url);" },
});
