import { describe, expect, it } from 'vitest';
import { classify, compareRuns } from '../../src/core/baseline.js';
import type { CheckResult, Status } from '../../src/core/types.js';

const r = (check: string, target: string, status: Status): CheckResult => ({ check, target, status, message: `${check} ${status}`, durationMs: 0 });

describe('classify', () => {
  it('calls a failure new only when it was not failing before', () => {
    expect(classify('pass', 'fail')).toBe('new');
    expect(classify('warn', 'error')).toBe('new');
    expect(classify(undefined, 'fail')).toBe('new');
    expect(classify('fail', 'error')).toBe('known');
    expect(classify('error', 'fail')).toBe('known');
  });
  it('orders pass → warn → fail: a new warning is worse, a failure turned warning improved', () => {
    expect(classify('pass', 'warn')).toBe('worse');
    expect(classify('skip', 'warn')).toBe('worse');
    expect(classify('warn', 'warn')).toBe('known');
    expect(classify('fail', 'warn')).toBe('improved');
  });
  it('names fixed, unchanged, added and removed results', () => {
    expect(classify('fail', 'pass')).toBe('fixed');
    expect(classify('warn', 'skip')).toBe('fixed');
    expect(classify('pass', 'pass')).toBe('unchanged');
    expect(classify('skip', 'pass')).toBe('unchanged');
    expect(classify(undefined, 'pass')).toBe('added');
    expect(classify('fail', undefined)).toBe('removed');
  });
});

describe('compareRuns', () => {
  const before = [r('node.swap', 'h1', 'fail'), r('node.swap', 'h2', 'pass'), r('node.sysctl', 'h1', 'pass'), r('node.sysctl', 'h2', 'fail'), r('node.swap', 'h3', 'fail')];
  // Reordered, h3 removed, h4 added, one new failure, one fixed, one known.
  const after = [r('node.sysctl', 'h2', 'pass'), r('node.swap', 'h4', 'pass'), r('node.swap', 'h2', 'fail'), r('node.swap', 'h1', 'fail'), r('node.sysctl', 'h1', 'pass'), r('node.sysctl', 'h4', 'warn')];

  it('matches by check id and target regardless of order, with hosts added and removed', () => {
    const cmp = compareRuns({ results: before }, { results: after }, 'old.json');
    expect(cmp.changes.map((c) => `${c.check} ${c.target} ${c.kind}`)).toEqual([
      'node.swap h1 known', 'node.swap h2 new', 'node.swap h3 removed', 'node.swap h4 added',
      'node.sysctl h1 unchanged', 'node.sysctl h2 fixed', 'node.sysctl h4 new',
    ]);
    expect(cmp.addedTargets).toEqual(['h4']);
    expect(cmp.removedTargets).toEqual(['h3']);
    expect(cmp.counts).toEqual({ new: 2, worse: 0, fixed: 1, improved: 0, known: 1, unchanged: 1, added: 1, removed: 1 });
    expect(cmp.regressed).toBe(true);
  });
  it('does not regress when only known failures remain', () => {
    const cmp = compareRuns({ results: before }, { results: [r('node.swap', 'h1', 'fail'), r('node.sysctl', 'h2', 'pass')] }, 'old.json');
    expect(cmp.regressed).toBe(false);
    expect(cmp.counts.known).toBe(1);
  });
});
