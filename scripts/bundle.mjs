#!/usr/bin/env node
// Bundles the CLI into one file (dist/kubecheck.cjs): loading ~300 small modules of ajv, yaml and
// commander one by one costs a fleet run more CPU than all its hosts' parsing. Heavy or native packages
// stay external and load only when a command needs them. CommonJS, so that bin/kubecheck.js can compile
// it with a V8 code cache (vm.Script's cachedData; Node 20 has no module compile cache): the bundle's
// `import('pkg')` calls become `__kcImport('pkg')`, the launcher's own dynamic import, which vm.Script
// code restored from a cache cannot make itself.
import { build } from 'esbuild';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';
import { AJV_OPTIONS, schemaDigest } from '../dist/src/core/schema.js';
import { NATIVE_SCHEMA } from '../dist/src/inventory/load.js';

// kubecheck's own schemas compiled now, as compileSchema would at run time (same options, found by the
// same digest): the bundle's precompiled.js is ajv's standalone code for them.
const schemas = [
  JSON.parse(readFileSync('suites/suite.schema.json', 'utf8')),
  JSON.parse(JSON.stringify(NATIVE_SCHEMA)),
  JSON.parse(readFileSync('reporters/report.schema.json', 'utf8')),
];
const ajv = new Ajv({ ...AJV_OPTIONS, logger: false, code: { source: true, esm: true } });
const names = {};
for (const schema of schemas) {
  const name = `v${schemaDigest(schema)}`;
  // Keyed by name, not $id: standalone code refers to each by the key it was added under.
  const { $id, ...rest } = schema;
  ajv.addSchema(rest, name);
  names[name] = name;
}
const precompiled = `${standaloneCode.default(ajv, names)}\nexport const PRECOMPILED = { ${Object.keys(names).map((n) => `'${n.slice(1)}': ${n}`).join(', ')} };\n`;
const precompiledPlugin = {
  name: 'precompiled-schemas',
  setup(b) {
    b.onLoad({ filter: /dist\/src\/core\/precompiled\.js$/ }, () => ({ contents: precompiled, loader: 'js', resolveDir: process.cwd() }));
  },
};

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
    plugins: [precompiledPlugin],
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
