// The pure parts of the workload scenarios: manifests (mirror, labels, settings), the suite's workloads
// block, the waits' judgements, and how reports show steps and evidence.
import { describe, expect, it } from 'vitest';
import { consoleReporter } from '../../reporters/console.js';
import { junitReporter } from '../../reporters/junit.js';
import { CHECKS } from '../../checks/index.js';
import { judgeSplit } from '../../checks/workloads/canary.js';
import { InputError } from '../../src/core/errors.js';
import type { RunResult, WorkloadCheck } from '../../src/core/types.js';
import { loadManifests, mirrorImage, podSpecOf, prepareManifests } from '../../src/scenarios/manifests.js';
import { readyEndpoints, rolledOut } from '../../src/scenarios/waits.js';
import { loadSuite, parseSuite, resolveSuitePath } from '../../src/suites/load.js';

const workloads = CHECKS.filter((c): c is WorkloadCheck => c.kind === 'workload');

describe('scenario manifests', () => {
  it('write a reference out in full before swapping in the mirror', () => {
    expect(mirrorImage('nginx:1.22', 'registry.local:5000')).toBe('registry.local:5000/library/nginx:1.22');
    expect(mirrorImage('bitnami/nginx:1.25', 'mirror.example.com/hub/')).toBe('mirror.example.com/hub/bitnami/nginx:1.25');
    expect(mirrorImage('registry.k8s.io/pause:3.10', 'mirror.example.com')).toBe('mirror.example.com/pause:3.10');
    expect(mirrorImage('localhost/busybox:1.36', 'm.example')).toBe('m.example/busybox:1.36');
    expect(mirrorImage('nginx:1.22', undefined)).toBe('nginx:1.22');
  });

  it('every scenario ships readable manifests with the images the issue names', () => {
    expect(workloads.map((c) => c.id)).toEqual(['workload.canary', 'workload.configmap-reload', 'workload.secret-restart']);
    const canary = loadManifests(workloads[0].manifests);
    const images = canary.map((m) => podSpecOf(m)?.containers[0].image).filter(Boolean);
    expect(images).toEqual(['nginx:1.22', 'nginx:1.23', 'busybox:1.36']);
    expect(canary.find((m) => m.kind === 'Service')?.spec).toMatchObject({ selector: { app: 'web' } });
    for (const c of workloads) expect(loadManifests(c.manifests).length).toBeGreaterThan(1);
  });

  it('get the namespace, the managed-by label on objects and pod templates, and the run settings', () => {
    const [, v1] = prepareManifests(loadManifests('checks/workloads/canary.yaml'), 'kubecheck-canary-abc', {
      imageRegistry: 'registry.local:5000', imagePullPolicy: 'Always', requests: { cpu: '10m' }, nodeSelector: { pool: 'smoke' },
    }, 'workload.canary');
    expect(v1.metadata).toMatchObject({ name: 'web-v1', namespace: 'kubecheck-canary-abc', labels: { 'app.kubernetes.io/managed-by': 'kubecheck', 'kubecheck.dev/scenario': 'workload.canary' } });
    const template = (v1.spec as { template: { metadata: { labels: Record<string, string> } } }).template;
    expect(template.metadata.labels).toEqual({ app: 'web', track: 'stable', 'app.kubernetes.io/managed-by': 'kubecheck', 'kubecheck.dev/scenario': 'workload.canary' });
    const spec = podSpecOf(v1)!;
    expect(spec.containers[0]).toMatchObject({ image: 'registry.local:5000/library/nginx:1.22', imagePullPolicy: 'Always', resources: { requests: { cpu: '10m' } } });
    expect(spec.nodeSelector).toEqual({ pool: 'smoke' });
  });

  it('are not changed by preparing them (definitions never change)', () => {
    const original = loadManifests('checks/workloads/secret-restart.yaml');
    const before = JSON.stringify(original);
    prepareManifests(original, 'ns', { imageRegistry: 'm.example' }, 'workload.secret-restart');
    expect(JSON.stringify(original)).toBe(before);
  });
});

describe('suite workloads block', () => {
  it('smoke lists the three scenarios with their params and settings', () => {
    const smoke = loadSuite(resolveSuitePath('smoke'));
    expect(smoke.checks.filter((c) => c.id.startsWith('workload.')).map((c) => c.id)).toEqual(workloads.map((c) => c.id));
    expect(smoke.workloads).toEqual({ imagePullPolicy: 'IfNotPresent', requests: { cpu: '10m', memory: '16Mi' }, cleanupTimeout: 120 });
  });

  it('rejects a bad pull policy and unknown scenario params with their lines', () => {
    let problems: InputError['problems'] = [];
    try {
      parseSuite(['name: x', 'checks:', '  - id: workload.canary', '    params: {tolerance: 2}', 'workloads:', '  imagePullPolicy: Sometimes'].join('\n'), 'w.yaml');
    } catch (err: unknown) {
      if (err instanceof InputError) problems = err.problems;
    }
    expect(problems.map((p) => [p.line, p.path])).toEqual([[6, '/workloads/imagePullPolicy']]);
    expect(problems[0].message).toMatch(/must be equal to one of the allowed values/);
    try {
      parseSuite(['name: x', 'checks:', '  - id: workload.canary', '    params: {tolerance: 2}'].join('\n'), 'w.yaml');
      problems = [];
    } catch (err: unknown) {
      if (err instanceof InputError) problems = err.problems;
    }
    expect(problems.map((p) => [p.line, p.path, p.message])).toEqual([[4, '/checks/0/params/tolerance', 'workload.canary: must be <= 0.5']]);
  });
});

describe('scenario waits', () => {
  it('a rollout is complete only with every replica updated and available and no old ones left', () => {
    const d = (status: Record<string, number>, generation = 2) => ({ metadata: { generation }, status: { observedGeneration: 2, ...status } });
    expect(rolledOut(d({ replicas: 3, updatedReplicas: 3, availableReplicas: 3 }), 3)).toBe(true);
    expect(rolledOut(d({ replicas: 4, updatedReplicas: 3, availableReplicas: 3 }), 3)).toBe(false);
    expect(rolledOut(d({ replicas: 3, updatedReplicas: 2, availableReplicas: 3 }), 3)).toBe(false);
    expect(rolledOut(d({ replicas: 3, updatedReplicas: 3, availableReplicas: 3 }, 3), 3)).toBe(false);
    expect(rolledOut(d({}), 0)).toBe(true);
  });

  it('counts ready pod endpoints across slices', () => {
    expect(readyEndpoints([
      { endpoints: [{ conditions: { ready: true }, targetRef: { kind: 'Pod', name: 'b' } }, { conditions: { ready: false }, targetRef: { kind: 'Pod', name: 'c' } }] },
      { endpoints: [{ targetRef: { kind: 'Pod', name: 'a' } }] },
    ])).toEqual(['a', 'b']);
  });
});

describe('canary traffic split', () => {
  const tracks = new Map([['v1-a', 'stable'], ['v1-b', 'stable'], ['v1-c', 'stable'], ['can-a', 'canary']]);
  const answers = (canary: number, stable: number) => [...Array(canary).fill('can-a'), ...Array(stable).fill('v1-b')];
  it('passes a share within the tolerance of 1/4, fails outside it', () => {
    expect(judgeSplit(answers(25, 75), tracks, 0.25, 0.15)).toEqual({ ok: true, text: 'canary answered 25 of 100 (25%, expected 25% ± 15%), stable 75' });
    expect(judgeSplit(answers(40, 60), tracks, 0.25, 0.15).ok).toBe(true);
    expect(judgeSplit(answers(41, 59), tracks, 0.25, 0.15).ok).toBe(false);
    expect(judgeSplit(answers(0, 100), tracks, 0.25, 0.15)).toEqual({ ok: false, text: 'canary answered 0 of 100 (0%, expected 25% ± 15%), stable 100' });
    expect(judgeSplit(answers(100, 0), tracks, 0.25, 0.15).ok).toBe(false);
  });
  it('fails when a pod not behind the Service answered', () => {
    expect(judgeSplit([...answers(25, 74), 'old-pod'], tracks, 0.25, 0.15)).toEqual({ ok: false, text: '1 answers came from pods that are not behind the Service (old-pod)' });
  });
});

describe('reports of a scenario', () => {
  const run: RunResult = {
    schemaVersion: 1, tool: { name: 'kubecheck', version: '0.1.0' }, command: 'smoke', startedAt: '2026-06-01T08:20:00.000Z', durationMs: 9000,
    summary: { pass: 0, warn: 0, fail: 1, error: 0, skip: 0 },
    results: [{
      check: 'workload.canary', target: 'cluster', status: 'fail', durationMs: 9000,
      message: 'step "v1 and canary available" failed: timed out after 5.0 s waiting for the rollout',
      evidence: { events: 'Warning FailedScheduling Pod/web-v1-x: 0/2 nodes are available', pods: 'web-v1-x: Pending, not scheduled' },
      remediation: 'read the failing step',
      steps: [
        { name: 'create namespace', status: 'pass', durationMs: 12, message: 'kubecheck-canary-abc' },
        { name: 'v1 and canary available', status: 'fail', durationMs: 5004, message: 'timed out after 5.0 s waiting for the rollout' },
        { name: 'delete namespace', status: 'pass', durationMs: 5200 },
      ],
    }],
  };

  it('console: each step with its time, then the evidence and the fix', () => {
    expect(consoleReporter({ color: false }).render(run)).toContain([
      '  ✗ workload.canary  step "v1 and canary available" failed: timed out after 5.0 s waiting for the rollout',
      '      ✓ create namespace (0.0 s): kubecheck-canary-abc',
      '      ✗ v1 and canary available (5.0 s): timed out after 5.0 s waiting for the rollout',
      '      ✓ delete namespace (5.2 s)',
      '      events:',
      '        Warning FailedScheduling Pod/web-v1-x: 0/2 nodes are available',
      '      pods:',
      '        web-v1-x: Pending, not scheduled',
      '      fix: read the failing step',
    ].join('\n'));
  });

  it('JUnit: the steps in the failure body, and in system-out when it passed', () => {
    const xml = junitReporter.render(run);
    expect(xml).toContain('Steps:\nPASS  create namespace (0.0 s): kubecheck-canary-abc\nFAIL  v1 and canary available (5.0 s): timed out after 5.0 s waiting for the rollout\nPASS  delete namespace (5.2 s)');
    const passed: RunResult = { ...run, results: [{ ...run.results[0], status: 'pass', message: 'ok', steps: [run.results[0].steps![0]] }] };
    expect(junitReporter.render(passed)).toContain('<system-out><![CDATA[ok\n\nSteps:\nPASS  create namespace (0.0 s): kubecheck-canary-abc]]></system-out>');
  });
});
