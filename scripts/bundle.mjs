#!/usr/bin/env node
// Bundles the CLI into one file (dist/kubecheck.cjs): loading ~300 small modules of ajv, yaml and
// commander one by one costs a fleet run more CPU than all its hosts' parsing. Heavy or native packages
// stay external and load only when a command needs them. CommonJS, so that bin/kubecheck.js can compile
// it with a V8 code cache (vm.Script's cachedData; Node 20 has no module compile cache): the bundle's
// `import('pkg')` calls become `__kcImport('pkg')`, the launcher's own dynamic import, which vm.Script
// code restored from a cache cannot make itself.
import { build } from 'esbuild';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';

const outfile = 'dist/kubecheck.cjs';
const metaUrl = 'dist/.import-meta-url.js';
writeFileSync(metaUrl, "export const importMetaUrl = require('node:url').pathToFileURL(__filename).href;\n");
try {
  await build({
    entryPoints: ['dist/src/cli.js'],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'warning',
    external: ['ssh2', '@kubernetes/client-node', 'ws', 'zx', 'ora', 'junit-report-builder'],
    define: { 'import.meta.url': 'importMetaUrl' },
    inject: [metaUrl],
  });
} finally {
  rmSync(metaUrl, { force: true });
}
const code = readFileSync(outfile, 'utf8');
const imports = code.match(/\bimport\("/g)?.length ?? 0;
const rewritten = code.replace(/\bimport\("/g, '__kcImport("');
// Every dynamic import must be one of those string-literal calls: any other form would fail at run time.
if (/\bimport\(/.test(rewritten)) throw new Error(`${outfile}: a dynamic import() that is not import("…") is left; the launcher cannot serve it`);
if (!imports) throw new Error(`${outfile}: no dynamic import found (the lazily loaded packages should be)`);
writeFileSync(outfile, rewritten);
rmSync('dist/kubecheck.mjs', { force: true });
