import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { afterAll, describe, expect, it } from 'vitest';
import { CHECKS } from '../../checks/index.js';
import { ROOT, kubecheckWith } from '../helpers.js';

const BIN = join(ROOT, 'bin/kubecheck.js');
const execFileAsync = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'kubecheck-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const kubecheck = (...args: string[]) => kubecheckWith({ timeoutMs: 60_000 }, ...args);

const validateReport = (() => {
  const ajv = new Ajv({ allErrors: true });
  addFormats.default(ajv);
  return ajv.compile(JSON.parse(readFileSync(join(ROOT, 'reporters/report.schema.json'), 'utf8')));
})();

describe('kubecheck preflight --local (the real binary on this machine)', () => {
  it('prints a readable report and exits 0/1 as its results say; JSON validates; JUnit is well-formed', async () => {
    const json = join(dir, 'report.json');
    const junit = join(dir, 'report.xml');
    const r = await kubecheck('preflight', '--local', '--json', json, '--junit', junit);
    const report = JSON.parse(readFileSync(json, 'utf8'));
    expect(validateReport(report), JSON.stringify(validateReport.errors)).toBe(true);
    const failed = report.results.some((x: { status: string }) => x.status === 'fail' || x.status === 'error');
    expect(r.code).toBe(failed ? 1 : 0);
    expect(report.command).toBe('preflight');
    expect(report.results.map((x: { check: string }) => x.check)).toContain('node.swap');
    expect(r.stdout).toMatch(/^kubecheck preflight — \d+ checks on 1 target/);
    expect(r.stdout).toMatch(/Summary: \d+ passed/);
    execFileSync('xmllint', ['--noout', junit]);
    const xml = readFileSync(junit, 'utf8');
    expect(xml.match(/<testsuite /g)).toHaveLength(1);
    expect(xml.match(/<testcase /g)?.length).toBe(report.results.length);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
  });

  it('-o json prints the report on stdout; -o junit prints XML', async () => {
    const j = await kubecheck('preflight', '--local', '-o', 'json', '--only', 'node.swap,node.resources');
    const report = JSON.parse(j.stdout);
    expect(report.results.map((x: { check: string }) => x.check)).toEqual(['node.swap', 'node.resources']);
    const x = await kubecheck('preflight', '--local', '-o', 'junit', '--skip', 'node.*');
    expect(x.stdout).toMatch(/^<\?xml/);
    expect(x.stdout).not.toContain('name="node.');
  });

  it('fails node.swap naming the device when a swap file is really switched on', async () => {
    const swapfile = join('/var/tmp', `kubecheck-swap-${process.pid}`);
    execFileSync('dd', ['if=/dev/zero', `of=${swapfile}`, 'bs=1M', 'count=16', 'status=none']);
    execFileSync('chmod', ['600', swapfile]);
    execFileSync('mkswap', [swapfile], { stdio: 'ignore' });
    execFileSync('swapon', [swapfile]);
    try {
      const r = await kubecheck('preflight', '--local', '--only', 'node.swap', '-o', 'json');
      expect(r.code).toBe(1);
      const [result] = JSON.parse(r.stdout).results;
      expect(result).toMatchObject({ check: 'node.swap', status: 'fail' });
      expect(result.message).toContain(swapfile);
      expect(result.remediation).toContain('swapoff -a');
    } finally {
      execFileSync('swapoff', [swapfile]);
      rmSync(swapfile, { force: true });
    }
  });

  it('--fail-on warn turns a warning into exit 1', async () => {
    const suite = join(dir, 'fstab.yaml');
    writeFileSync(suite, 'name: swap-only\nchecks: [node.swap]\n');
    const r = await kubecheck('run', suite, '--local', '-o', 'json');
    const status = JSON.parse(r.stdout).results[0].status;
    const strict = await kubecheck('run', suite, '--local', '--fail-on', 'warn', '-q');
    expect(strict.code).toBe(status === 'pass' ? 0 : 1);
    expect(strict.stdout).toMatch(/^\d+ passed, \d+ warnings, \d+ failed, \d+ errors, \d+ skipped\n$/);
  });
});

describe('bad input exits 2 with a clear message', () => {
  it('a malformed suite names the file and the line', async () => {
    const suite = join(dir, 'broken.yaml');
    writeFileSync(suite, 'name: broken\nchecks:\n  - node.swap\n  - node.nope\n  - { id: node.ports, params: { legacyPorts: 3 } }\n');
    const r = await kubecheck('run', suite, '--local');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${suite}:4:5: /checks/1: unknown check id 'node.nope'`);
    expect(r.stderr).toContain(`${suite}:5:`);
    expect(r.stderr).toContain('node.ports: must be boolean');
  });
  it('a YAML syntax error names the line', async () => {
    const suite = join(dir, 'syntax.yaml');
    writeFileSync(suite, 'name: x\nchecks: [node.swap\n');
    const r = await kubecheck('run', suite, '--local');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`${suite.replace(/[.]/g, '\\.')}:\\d+:\\d+: YAML: `));
  });
  it('--junit to an unwritable path is an error before the run, not a stack trace', async () => {
    const r = await kubecheck('preflight', '--local', '--junit', '/nonexistent-dir/report.xml');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('kubecheck: --junit /nonexistent-dir/report.xml: cannot write the report there (its folder does not exist)\n');
  });
  it('an unknown option, a missing host source, an unknown check to explain', async () => {
    expect((await kubecheck('preflight', '--bogus')).code).toBe(2);
    const noHosts = await kubecheck('preflight');
    expect(noHosts.code).toBe(2);
    expect(noHosts.stderr).toContain('no hosts to check');
    const explain = await kubecheck('explain', 'node.nope');
    expect(explain.code).toBe(2);
    expect(explain.stderr).toContain("unknown check id 'node.nope'");
    expect((await kubecheck('preflight', '--local', '--only', 'cluster.*')).code).toBe(2);
  });
});

describe('catalogue and help', () => {
  it('list shows every registered check; explain shows why and the fix', async () => {
    const list = await kubecheck('list');
    for (const c of CHECKS) expect(list.stdout).toContain(c.id);
    const ex = await kubecheck('explain', 'node.swap');
    expect(ex.code).toBe(0);
    expect(ex.stdout).toContain('running with swap on is not supported');
    expect(ex.stdout).toContain('swapoff -a');
  });
  it('--help has examples and exit codes; --version prints the version', async () => {
    const help = await kubecheck('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('kubecheck preflight --local');
    expect(help.stdout).toContain('130 interrupted');
    const version = await kubecheck('--version');
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
  });
  it('works when called as the kubectl plugin', async () => {
    expect(existsSync(BIN)).toBe(true);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.bin['kubectl-check']).toBe(pkg.bin.kubecheck);
  });
});

describe('the launcher\'s code cache', () => {
  // The package with a bin/ and dist/ of its own (the rest linked), whose dist/ this test alone writes.
  const pkg = join(dir, 'pkg');
  mkdirSync(join(pkg, 'bin'), { recursive: true });
  mkdirSync(join(pkg, 'dist'));
  for (const entry of readdirSync(ROOT)) if (!['bin', 'dist', '.git'].includes(entry)) symlinkSync(join(ROOT, entry), join(pkg, entry));
  copyFileSync(BIN, join(pkg, 'bin/kubecheck.js'));
  copyFileSync(join(ROOT, 'dist/kubecheck.cjs'), join(pkg, 'dist/kubecheck.cjs'));
  const cacheDir = join(pkg, 'dist/.v8-cache');
  const cli = (env: Record<string, string>, ...args: string[]) => execFileAsync(process.execPath, [join(pkg, 'bin/kubecheck.js'), ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });

  it('is written next to the bundle after a command\'s first run, used by the next, and a bad one is replaced', async () => {
    const first = await cli({}, 'explain', 'node.swap');
    const files = readdirSync(cacheDir);
    expect(files).toEqual([expect.stringMatching(/^[0-9a-f]{20}-explain\.bin$/)]);
    const file = join(cacheDir, files[0]);
    const written = readFileSync(file);
    expect(written.length).toBeGreaterThan(10_000);
    // Used as it is (not written again), same output.
    expect((await cli({}, 'explain', 'node.swap')).stdout).toBe(first.stdout);
    expect(readFileSync(file).equals(written)).toBe(true);
    // Garbage in its place: V8 rejects it, the run is the same, and a good one is written instead.
    writeFileSync(file, Buffer.alloc(4096, 7));
    expect((await cli({}, 'explain', 'node.swap')).stdout).toBe(first.stdout);
    expect(readFileSync(file).length).toBeGreaterThan(10_000);
  });

  it('is not written with KUBECHECK_CODE_CACHE=0, and lazily loaded packages still load (the bundle\'s imports go through the launcher)', async () => {
    rmSync(cacheDir, { recursive: true, force: true });
    // preflight --local runs the collector through zx, which the bundle imports when it needs it.
    const r = await cli({ KUBECHECK_CODE_CACHE: '0' }, 'preflight', '--local', '-o', 'json').catch((err: { stdout: string }) => err);
    expect(JSON.parse(r.stdout).results.find((x: { check: string }) => x.check === 'node.swap')?.status).toMatch(/^(pass|warn|fail)$/);
    expect(existsSync(cacheDir)).toBe(false);
  });
});

describe('the bundle\'s precompiled validators', () => {
  it('cover the suite, inventory and report schemas under the digests compileSchema looks them up by', async () => {
    const { schemaDigest } = await import('../../src/core/schema.js');
    const { NATIVE_SCHEMA } = await import('../../src/inventory/load.js');
    const bundle = readFileSync(join(ROOT, 'dist/kubecheck.cjs'), 'utf8');
    const table = /PRECOMPILED = \{([^}]*)\}/.exec(bundle)?.[1] ?? '';
    const digests = [
      JSON.parse(readFileSync(join(ROOT, 'suites/suite.schema.json'), 'utf8')),
      JSON.parse(JSON.stringify(NATIVE_SCHEMA)),
      JSON.parse(readFileSync(join(ROOT, 'reporters/report.schema.json'), 'utf8')),
    ].map((schema) => schemaDigest(schema));
    for (const d of digests) expect(table).toContain(`"${d}": v${d}`);
  });
});
