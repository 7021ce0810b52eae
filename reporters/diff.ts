import type { Change, ChangeKind, Comparison } from '../src/core/baseline.js';
import { natural } from '../src/core/order.js';
import { newJunitBuilder, toJenkinsShape } from './junit.js';

const SECTIONS: { kind: ChangeKind; title: string; mark: string }[] = [
  { kind: 'new', title: 'New failures', mark: '✗' },
  { kind: 'worse', title: 'Got worse', mark: '▲' },
  { kind: 'known', title: 'Still failing (known)', mark: '·' },
  { kind: 'improved', title: 'Improved', mark: '↑' },
  { kind: 'fixed', title: 'Fixed', mark: '✓' },
  { kind: 'removed', title: 'No longer checked', mark: '-' },
];

const was = (c: Change) => (c.before === undefined ? 'not in the baseline' : c.after === undefined ? `was ${c.before}` : `${c.before} → ${c.after}`);

/** What changed between two reports, as text: new failures first, then worse, known, fixed, removed. */
export function renderDiffText(cmp: Comparison, title: string): string {
  const out = [title];
  for (const s of SECTIONS) {
    const items = cmp.changes.filter((c) => c.kind === s.kind);
    if (!items.length) continue;
    out.push('', `${s.title} (${items.length}):`);
    for (const c of items) out.push(`  ${s.mark} ${c.check} on ${c.target}: ${c.message} (${was(c)})`);
  }
  if (cmp.addedTargets.length) out.push('', `Targets added: ${cmp.addedTargets.join(', ')}`);
  if (cmp.removedTargets.length) out.push('', `Targets removed: ${cmp.removedTargets.join(', ')}`);
  const n = cmp.counts;
  out.push('', `${n.new} new, ${n.worse} worse, ${n.known} still failing, ${n.fixed} fixed, ${n.improved} improved, ${n.unchanged + n.added} unchanged, ${n.removed} removed` +
    ` — ${cmp.regressed ? 'REGRESSED' : 'no regression'}`);
  return out.join('\n') + '\n';
}

export function renderDiffJson(cmp: Comparison, sides: { old: string; new: string }, version: string): string {
  return JSON.stringify({ schemaVersion: 1, tool: { name: 'kubecheck', version }, command: 'diff', ...sides, ...cmp }, null, 2) + '\n';
}

/** JUnit of a comparison: one testsuite per target; new/worse → failure, known → skipped, the rest pass. */
export function renderDiffJunit(cmp: Comparison): string {
  const builder = newJunitBuilder();
  const targets = [...new Set(cmp.changes.filter((c) => c.kind !== 'removed').map((c) => c.target))].sort(natural);
  for (const target of targets) {
    const suite = builder.testSuite().name(target);
    suite.property('baseline', cmp.baseline);
    for (const c of cmp.changes.filter((x) => x.target === target && x.kind !== 'removed')) {
      const tc = suite.testCase().className(`kubecheck.${c.check.split('.')[0]}`).name(c.check);
      const text = `${c.message} (${was(c)})${c.remediation ? `\n\nFix: ${c.remediation}` : ''}`;
      if (c.kind === 'new' || c.kind === 'worse') tc.failure(`${c.kind === 'new' ? 'new failure' : 'got worse'}: ${c.message}`, c.kind).standardOutput(text);
      else if (c.kind === 'known') tc.skipped().standardOutput(`known failure, in the baseline: ${text}`);
      else tc.standardOutput(text);
    }
  }
  return toJenkinsShape(builder.build());
}
