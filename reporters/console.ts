import type { CheckResult, Reporter, RunResult, Status } from '../src/core/types.js';
import { SEVERITY } from '../src/core/types.js';
import { natural } from '../src/core/order.js';

export interface ConsoleOptions {
  color: boolean;
  /** List passing checks too (default: only when one target was checked). */
  verbose?: boolean;
}

const CODES = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, gray: 90, bold: 1 } as const;
type Colour = keyof typeof CODES;

const MARK: Record<Status, { mark: string; colour: Colour; word: string }> = {
  fail: { mark: '✗', colour: 'red', word: 'failed' },
  error: { mark: '!', colour: 'magenta', word: 'error' },
  warn: { mark: '▲', colour: 'yellow', word: 'warning' },
  pass: { mark: '✓', colour: 'green', word: 'passed' },
  skip: { mark: '-', colour: 'gray', word: 'skipped' },
};
// Failures first within a target; targets with failures first too.
const RANK: Record<Status, number> = { fail: 0, error: 1, warn: 2, skip: 3, pass: 4 };

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : word.endsWith('s') ? 'es' : 's'}`;

/**
 * doctor's account, one block per node: "w2 NotReady since 14:02 — cni0 has … → run: kubecheck fix cni0
 * --node w2", then the evidence and the other candidate causes.
 */
function renderDoctor(run: RunResult, paint: (c: Colour, t: string) => string): string {
  const out = [paint('bold', `kubecheck doctor`) + ` — ${new Set(run.diagnoses!.map((d) => d.node)).size} node(s) in ${(run.durationMs / 1000).toFixed(1)} s`];
  const byNode = new Map<string, NonNullable<RunResult['diagnoses']>>();
  for (const d of run.diagnoses!) byNode.set(d.node, [...(byNode.get(d.node) ?? []), d]);
  for (const [node, ds] of byNode) {
    const [top, ...rest] = ds;
    const result = run.results.find((r) => r.target === node);
    const note = result?.message.match(/\[(.*)\]$/)?.[1];
    const state = top.state ? `${top.state} — ` : '';
    if (top.cause === 'healthy') {
      out.push('', `${paint('bold', node)} ${state}${paint('green', 'healthy')}: ${top.summary}${note ? ` (${note})` : ''}`);
      continue;
    }
    out.push('', `${paint('bold', node)} ${state}${paint('red', top.summary)}${top.fix[0] ? ` → run: ${paint('blue', top.fix[0])}` : ''}`);
    out.push(`    cause: ${top.cause} (${top.confidence} confidence)${note ? `; ${note}` : ''}`);
    for (const e of top.evidence) out.push(paint('gray', `    evidence: ${e}`));
    for (const f of top.fix.slice(1)) out.push(paint('blue', `    then: ${f}`));
    for (const d of rest) out.push(`    also possible: ${d.cause} (${d.confidence}) — ${d.summary}`);
  }
  const sick = [...byNode.values()].filter((ds) => ds[0].cause !== 'healthy').length;
  out.push('', `${paint('bold', 'Summary')}: ${sick} of ${byNode.size} node(s) with a cause`);
  return out.join('\n') + '\n';
}

/** " (profile kubeadm, flannel)": how the targets were found installed, when the report knows. */
function profilesOf(run: RunResult): string {
  const seen = [...new Set((run.targets ?? []).filter((t) => t.profile).map((t) => `${t.profile}${t.cni && t.cni !== 'none' && t.cni !== 'unknown' ? `, ${t.cni}` : ''}`))];
  return seen.length ? ` (profile ${seen.join('; ')})` : '';
}

/** " — 2 of 5 hosts not reached", when some were not. */
function hostsNotReached(run: RunResult): string {
  const hosts = (run.targets ?? []).filter((t) => t.kind === 'host');
  const missed = hosts.filter((t) => !t.reached).length;
  return missed ? ` — ${missed} of ${hosts.length} hosts not reached` : '';
}

export function consoleReporter(options: ConsoleOptions): Reporter {
  const paint = (colour: Colour, text: string) => (options.color ? `\x1b[${CODES[colour]}m${text}\x1b[0m` : text);

  const line = (r: CheckResult, width: number) => {
    const m = MARK[r.status];
    const out = [`  ${paint(m.colour, m.mark)} ${r.check.padEnd(width)}  ${r.message}`];
    const bad = r.status !== 'pass' && r.status !== 'skip';
    // A scenario's steps: always when it went wrong, with -v when it passed.
    if (r.steps && (bad || options.verbose)) {
      for (const st of r.steps) {
        const sm = MARK[st.status];
        out.push(`      ${paint(sm.colour, sm.mark)} ${st.name} ${paint('gray', `(${(st.durationMs / 1000).toFixed(1)} s)`)}${st.message ? `: ${st.message}` : ''}`);
      }
      if (bad && r.evidence) {
        for (const [k, v] of Object.entries(r.evidence)) {
          out.push(paint('gray', `      ${k}:`));
          for (const l of v.split('\n').slice(-8)) out.push(paint('gray', `        ${l}`));
        }
      }
    }
    if (bad && r.remediation) {
      const [first, ...rest] = r.remediation.split('\n');
      out.push(paint('blue', [`      fix: ${first}`, ...rest.map((l) => `           ${l}`)].join('\n')));
    }
    return out.join('\n');
  };

  return {
    render(run: RunResult): string {
      if (run.diagnoses) return renderDoctor(run, paint);
      const byTarget = new Map<string, CheckResult[]>();
      for (const r of run.results) byTarget.set(r.target, [...(byTarget.get(r.target) ?? []), r]);
      const worstRank = (rs: CheckResult[]) => Math.min(...rs.map((r) => RANK[r.status]));
      const targets = [...byTarget.keys()].sort((a, b) => worstRank(byTarget.get(a)!) - worstRank(byTarget.get(b)!) || natural(a, b));
      const verbose = options.verbose ?? byTarget.size <= 1;
      const width = Math.max(0, ...run.results.map((r) => r.check.length));
      const out: string[] = [];
      const checks = new Set(run.results.map((r) => r.check)).size;
      out.push(paint('bold', `kubecheck ${run.command}${run.suite && run.suite !== run.command ? ` (${run.suite})` : ''}`) +
        ` — ${plural(checks, 'check')} on ${plural(byTarget.size, 'target')} in ${(run.durationMs / 1000).toFixed(1)} s${profilesOf(run)}`);
      for (const target of targets) {
        const rs = [...byTarget.get(target)!].sort((a, b) => RANK[a.status] - RANK[b.status] || SEVERITY[b.status] - SEVERITY[a.status]);
        const counts = (['fail', 'error', 'warn', 'pass', 'skip'] as Status[])
          .map((s) => ({ s, n: rs.filter((r) => r.status === s).length }))
          .filter((c) => c.n > 0)
          .map((c) => paint(MARK[c.s].colour, `${c.n} ${MARK[c.s].word}`));
        out.push('', `${paint('bold', target)}  ${counts.join(', ')}`);
        for (const r of rs) if (verbose || (r.status !== 'pass' && r.status !== 'skip')) out.push(line(r, width));
      }
      if (run.baseline) {
        const b = run.baseline;
        const n = b.counts;
        out.push('', `${paint('bold', 'Compared with')} ${b.file}: ${n.new ?? 0} new, ${n.worse ?? 0} worse, ${n.known ?? 0} still failing (known), ${n.fixed ?? 0} fixed` +
          (b.addedTargets.length ? `; targets added: ${b.addedTargets.join(', ')}` : '') + (b.removedTargets.length ? `; removed: ${b.removedTargets.join(', ')}` : ''));
        for (const c of b.changes.filter((x) => x.kind === 'new' || x.kind === 'worse')) {
          out.push(`  ${paint('red', c.kind === 'new' ? 'NEW  ' : 'WORSE')} ${c.check} on ${c.target}: ${c.message}${c.before ? ` (was ${c.before})` : ''}`);
        }
        out.push(b.regressed ? paint('red', '  gate: FAILED (something got worse)') : paint('green', '  gate: passed (nothing got worse)'));
      }
      const s = run.summary;
      out.push('', `${paint('bold', 'Summary')}: ${s.pass} passed, ${s.warn} warning${s.warn === 1 ? '' : 's'}, ${s.fail} failed, ${s.error} error${s.error === 1 ? '' : 's'}, ${s.skip} skipped` +
        (hostsNotReached(run)) +
        (run.interrupted ? paint('red', ' — interrupted') : ''));
      return out.join('\n') + '\n';
    },
  };
}
