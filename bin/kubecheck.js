#!/usr/bin/env node
// The CLI's launcher: compiles the bundle (dist/kubecheck.cjs) with a V8 code cache kept next to it, one
// per command (a run compiles only what its command uses), so a run does not parse and compile ~1.3 MB of
// JavaScript again (~50 ms of CPU per run). The cache is written, once, only where the package itself may
// be written (dist/.v8-cache/), never elsewhere; KUBECHECK_CODE_CACHE=0 turns it off. V8 rejects a cache
// from another V8 or other flags; the key (Node's version and the bundle's content) covers the rest.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';

// V8 optimizes a function once it has run a budget's worth: at its default, a 50-host preflight spends
// ~13 % of its CPU on compiler threads for code that has done its work by then. At 16 times the budget only
// what stays hot is optimized (parsing and judging 5,000 nodes' facts: same wall time, 25 % less CPU).
const V8_FLAGS = '--interrupt-budget=1081344';
v8.setFlagsFromString(V8_FLAGS);
const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const bundle = join(dist, 'kubecheck.cjs');
const source = readFileSync(bundle, 'utf8');
const useCache = process.env.KUBECHECK_CODE_CACHE !== '0';
const command = /^[a-z][a-z-]{0,30}$/.test(process.argv[2] ?? '') ? process.argv[2] : 'other';
const key = createHash('sha1').update(`${process.version}\0${process.execArgv.join(' ')} ${V8_FLAGS}\0`).update(source).digest('hex').slice(0, 20);
const cacheFile = join(dist, '.v8-cache', `${key}-${command}.bin`);
let cachedData;
if (useCache) {
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    // None yet: this run writes it.
  }
}
const script = new vm.Script(`(function (exports, require, module, __filename, __dirname, __kcImport) {${source}\n})`, { filename: bundle, ...(cachedData ? { cachedData } : {}) });
const cjs = { exports: {} };
script.runInThisContext()(cjs.exports, createRequire(bundle), cjs, bundle, dist, (specifier) => import(specifier));

const code = await cjs.exports.main(process.argv);
process.exitCode = code;
if (useCache && (!cachedData || script.cachedDataRejected)) {
  // After the run, so the cache holds the functions this command compiled (V8 keeps them in cachedData).
  try {
    mkdirSync(dirname(cacheFile), { recursive: true });
    const partial = `${cacheFile}.${process.pid}`;
    writeFileSync(partial, script.createCachedData());
    renameSync(partial, cacheFile);
    // Caches of an earlier bundle or Node are of no more use.
    for (const f of readdirSync(dirname(cacheFile))) if (!f.startsWith(key)) rmSync(join(dirname(cacheFile), f), { force: true });
  } catch {
    // A package folder this user cannot write: runs go on without a cache.
  }
}
