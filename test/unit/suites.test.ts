import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHECKS } from '../../checks/index.js';
import { InputError } from '../../src/core/errors.js';
import { loadSuite, parseSuite, resolveSuitePath, selectChecks } from '../../src/suites/load.js';

function problemsOf(text: string) {
  try {
    parseSuite(text, 'bad.yaml');
  } catch (err: unknown) {
    if (err instanceof InputError) return err.problems;
    throw err;
  }
  throw new Error('the suite was accepted');
}

describe('suites', () => {
  it('loads every built-in suite', () => {
    for (const name of ['preflight', 'preflight-control-plane', 'preflight-worker']) {
      const suite = loadSuite(resolveSuitePath(name));
      expect(suite.name).toBe(name);
      expect(suite.checks.map((c) => c.id)).toContain('node.swap');
      expect(suite.checks.map((c) => c.id)).toContain('fleet.mac-unique');
    }
    expect(loadSuite(resolveSuitePath('preflight-worker')).roles).toEqual(['worker']);
  });
  it('expands globs in the order of the registry and keeps params', () => {
    const s = parseSuite('name: x\nchecks:\n  - fleet.*\n  - { id: node.ports, params: { legacyPorts: true } }\n', 'x.yaml');
    expect(s.checks).toEqual([
      ...CHECKS.filter((c) => c.id.startsWith('fleet.')).map((c) => ({ id: c.id, params: {} })),
      { id: 'node.ports', params: { legacyPorts: true } },
    ]);
  });
  it('reports every problem at once with file, line and path: unknown ids, bad params, schema', () => {
    const problems = problemsOf([
      'name: broken',
      'checks:',
      '  - node.swap',
      '  - node.swapp',
      '  - id: node.ports',
      '    params: { legacyPorts: "yes" }',
      '  - id: node.sysctl',
      '    params: { nope: 1 }',
      '  - { id: node.swap, params: { x: 1 } }',
      '  - nothing.*',
    ].join('\n'));
    expect(problems).toEqual([
      { file: 'bad.yaml', line: 4, column: 5, path: '/checks/1', message: "unknown check id 'node.swapp' (known in that area: node.swap, node.sysctl, node.ports, node.resources, node.runtime, node.kubelet, node.services, node.certificates, node.cgroup-driver, node.firewall, node.selinux, node.system, node.binaries, node.hostname, node.proxy, node.leftovers, node.persisted, node.time-sync, node.disk, node.registry)" },
      { file: 'bad.yaml', line: 6, column: 28, path: '/checks/2/params/legacyPorts', message: 'node.ports: must be boolean' },
      { file: 'bad.yaml', line: 8, column: 13, path: '/checks/3/params', message: "node.sysctl: must NOT have additional properties 'nope'" },
      { file: 'bad.yaml', line: 9, column: 30, path: '/checks/4/params', message: 'node.swap takes no params' },
      { file: 'bad.yaml', line: 10, column: 5, path: '/checks/5', message: "'nothing.*' matches no check" },
    ]);
  });
  it('reports YAML syntax errors with their line', () => {
    const problems = problemsOf('name: x\nchecks:\n  - node.swap\n  - [unclosed\n');
    expect(problems[0]).toMatchObject({ file: 'bad.yaml', line: 5 });
    expect(problems[0].message).toMatch(/^YAML: /);
  });
  it('reports schema errors (missing name, wrong phase) with lines', () => {
    const problems = problemsOf('phase: during\nchecks: [node.swap]\n');
    expect(problems).toContainEqual({ file: 'bad.yaml', line: 1, column: 1, path: '/', message: "must have required property 'name'" });
    expect(problems).toContainEqual({ file: 'bad.yaml', line: 1, column: 8, path: '/phase', message: 'must be equal to one of the allowed values: pre, post' });
  });
  it('says when the suite file cannot be read', () => {
    expect(() => loadSuite('/nonexistent/suite.yaml')).toThrow(/cannot read the suite: ENOENT/);
  });
  it('reads a suite from any path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kc-'));
    writeFileSync(join(dir, 's.yml'), 'name: mine\nphase: post\nchecks: [node.kubelet]\n');
    expect(loadSuite(resolveSuitePath(join(dir, 's.yml')))).toMatchObject({ name: 'mine', phase: 'post', checks: [{ id: 'node.kubelet', params: {} }] });
  });
  it('selects with --only and --skip by id or glob', () => {
    const entries = loadSuite(resolveSuitePath('preflight')).checks;
    expect(selectChecks(entries, ['node.s*'], []).map((e) => e.id)).toEqual(['node.swap', 'node.sysctl', 'node.selinux', 'node.system']);
    expect(selectChecks(entries, [], ['node.*']).map((e) => e.id)).toEqual(['cni.flannel-plugin', 'cni.config', 'cni.cni0', 'fleet.product-uuid-unique', 'fleet.mac-unique', 'fleet.hostname-unique', 'fleet.clock-skew', 'fleet.node-ip', 'fleet.reachability']);
    expect(() => selectChecks(entries, ['cluster.*'], [])).toThrow(/selects none/);
  });
});
