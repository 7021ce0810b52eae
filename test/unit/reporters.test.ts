import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { consoleReporter } from '../../reporters/console.js';
import { jsonChunks, jsonReporter } from '../../reporters/json.js';
import { junitReporter } from '../../reporters/junit.js';
import type { RunResult } from '../../src/core/types.js';
import { ROOT } from '../helpers.js';

export const SAMPLE: RunResult = {
  schemaVersion: 1,
  tool: { name: 'kubecheck', version: '0.1.0' },
  command: 'preflight',
  startedAt: '2026-06-01T08:20:00.000Z',
  durationMs: 812,
  summary: { pass: 3, warn: 1, fail: 2, error: 1, skip: 1 },
  results: [
    { check: 'node.swap', target: 'w1', status: 'fail', code: 'node.swap/swap-on', message: 'swap is on: /dev/dm-1 (8.0 GiB)', evidence: { '/proc/swaps': '/dev/dm-1 partition 8388604 0 -2' }, remediation: "swapoff -a && sed -i '/ swap / s/^/#/' /etc/fstab", durationMs: 2 },
    { check: 'node.swap', target: 'w2', status: 'pass', message: 'no active swap', durationMs: 1 },
    { check: 'node.swap', target: 'w3', status: 'error', code: 'node.swap/unreached', message: 'host not reached: connect ECONNREFUSED 10.0.0.3:22', remediation: 'check sshd', durationMs: 0 },
    { check: 'node.sysctl', target: 'w1', status: 'pass', message: 'ip_forward=1', durationMs: 0 },
    { check: 'node.sysctl', target: 'w2', status: 'fail', code: 'node.sysctl/ip-forward-off', message: 'net.ipv4.ip_forward is 0, must be 1', remediation: "echo 'net.ipv4.ip_forward = 1' >> /etc/sysctl.d/k8s.conf && sysctl --system", durationMs: 0 },
    { check: 'node.kubelet', target: 'w1', status: 'skip', code: 'node.kubelet/pre-install', message: 'pre-install', durationMs: 0 },
    { check: 'node.selinux', target: 'w1', status: 'warn', code: 'node.selinux/enforcing', message: 'SELinux is enforcing', remediation: 'setenforce 0', durationMs: 0 },
    { check: 'node.selinux', target: 'w2', status: 'pass', message: 'SELinux is disabled', durationMs: 0 },
  ],
  suite: 'preflight',
  parameters: { phase: 'pre' },
  targets: [
    { name: 'w1', kind: 'host', reached: true, reachedBy: 'ssh', profile: 'kubeadm', cni: 'flannel' },
    { name: 'w2', kind: 'host', reached: true, reachedBy: 'ssh', profile: 'kubeadm', cni: 'flannel' },
    { name: 'w3', kind: 'host', reached: false, reachedBy: 'ssh', problem: 'connect ECONNREFUSED 10.0.0.3:22' },
  ],
};

function golden(name: string, actual: string) {
  const path = join(ROOT, 'fixtures/golden', name);
  if (process.env.UPDATE_GOLDEN) writeFileSync(path, actual);
  expect(actual).toBe(readFileSync(path, 'utf8'));
}

describe('console reporter', () => {
  it('groups by target, failures first, with remediation', () => {
    golden('console.txt', consoleReporter({ color: false }).render(SAMPLE));
  });
  it('lists only problems when several targets were checked, all lines with verbose', () => {
    const text = consoleReporter({ color: false }).render(SAMPLE);
    expect(text).not.toContain('no active swap');
    expect(consoleReporter({ color: false, verbose: true }).render(SAMPLE)).toContain('no active swap');
  });
  it('colours only when asked', () => {
    expect(consoleReporter({ color: true }).render(SAMPLE)).toContain('\x1b[31m✗');
    expect(consoleReporter({ color: false }).render(SAMPLE)).not.toContain('\x1b[');
  });
});

describe('junit reporter', () => {
  it('renders one testsuite per target and one testcase per check', () => {
    golden('junit.xml', junitReporter.render(SAMPLE).replace(/hostname="[^"]*"/g, 'hostname="HOST"'));
  });
  it('maps statuses: fail → failure, error → error, skip → skipped, warn → passed with system-out', () => {
    const xml = junitReporter.render(SAMPLE);
    expect(xml.match(/<testsuite /g)).toHaveLength(3);
    expect(xml.match(/<testcase /g)).toHaveLength(8);
    expect(xml).toMatch(/<testsuite name="w1"[^>]*tests="4" failures="1" errors="0" skipped="1"/);
    expect(xml).toMatch(/<testsuite name="w3"[^>]*tests="1" failures="0" errors="1"/);
    expect(xml).toMatch(/<failure message="swap is on: \/dev\/dm-1 \(8.0 GiB\)" type="node.swap\/swap-on"><!\[CDATA\[swap is on: \/dev\/dm-1 \(8.0 GiB\)\n\nFix: swapoff -a/);
    expect(xml).toMatch(/<error message="host not reached: connect ECONNREFUSED 10.0.0.3:22" type="node\.swap\/unreached"><!\[CDATA\[[^\]]*Fix: check sshd/);
    expect(xml).toMatch(/<testcase classname="kubecheck.node" name="node.selinux"[^>]*>\s*<system-out>\s*<!\[CDATA\[WARNING: SELinux is enforcing/);
  });
  it('validates against the Jenkins JUnit schema shape (no skipped attribute on <testsuites>)', () => {
    const path = join(ROOT, '.vitest-junit.xml');
    writeFileSync(path, junitReporter.render(SAMPLE));
    try {
      execFileSync('xmllint', ['--noout', '--schema', join(ROOT, 'fixtures/schemas/junit-jenkins.xsd'), path], { stdio: 'pipe' });
    } finally {
      rmSync(path, { force: true });
    }
    expect(junitReporter.render(SAMPLE)).toMatch(/^<\?xml[^>]*>\n<testsuites tests="8" failures="2" errors="1">/);
  });
  it('marks known failures as skipped under a baseline gate', () => {
    const gated = { ...SAMPLE, baseline: { file: 'b.json', counts: {}, changes: [{ check: 'node.swap', target: 'w1', kind: 'known', before: 'fail' as const, after: 'fail' as const, message: 'x' }], addedTargets: [], removedTargets: [], regressed: false } };
    const xml = junitReporter.render(gated);
    expect(xml).toMatch(/<testcase classname="kubecheck.node" name="node.swap" time="0.002">\s*<skipped\/>\s*<system-out><!\[CDATA\[known failure, in the baseline: swap is on/);
    expect(xml).toMatch(/<testsuite name="w1"[^>]*failures="0"/);
  });
  it('builds each report afresh (no state shared between reports)', () => {
    const once = junitReporter.render(SAMPLE);
    expect(junitReporter.render(SAMPLE)).toBe(once);
  });
});

describe('json reporter', () => {
  it('renders the contract and validates against the report schema', () => {
    const text = jsonReporter.render(SAMPLE);
    golden('report.json', text);
    const ajv = new Ajv({ allErrors: true });
    addFormats.default(ajv);
    const validate = ajv.compile(JSON.parse(readFileSync(join(ROOT, 'reporters/report.schema.json'), 'utf8')));
    expect(validate(JSON.parse(text)), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ ...SAMPLE, results: [{ ...SAMPLE.results[0], status: 'broken' }] })).toBe(false);
  });

  it('written in pieces for a fleet of thousands, the text is exactly JSON.stringify\'s, piece by piece small', () => {
    const results = Array.from({ length: 3000 }, (_, i) => ({ ...SAMPLE.results[i % SAMPLE.results.length], target: `node-${i}`, evidence: { note: 'multi\nline — “quoted”', empty: '' } }));
    const targets = Array.from({ length: 3000 }, (_, i) => ({ ...SAMPLE.targets![0], name: `node-${i}` }));
    const big = { ...SAMPLE, results, targets, parameters: { phase: 'pre', nothing: undefined, list: [] } } as unknown as RunResult;
    const pieces = [...jsonChunks(big)];
    expect(pieces.join('')).toBe(JSON.stringify(big, null, 2) + '\n');
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThan(2000);
    expect([...jsonChunks(SAMPLE)].join('')).toBe(JSON.stringify(SAMPLE, null, 2) + '\n');
  });
});
