import { createRequire } from 'node:module';
import type { Builder } from 'junit-report-builder';
import type { CheckResult, Reporter, RunResult } from '../src/core/types.js';
import { natural } from '../src/core/order.js';

// Loaded on first use (it is slow to import and most runs write no JUnit). Its export is the builder
// singleton, whose newBuilder() gives a fresh builder per report.
let builders: Builder | undefined;

/** A fresh JUnit builder (the package is loaded on first use; its default export is a shared singleton). */
export function newJunitBuilder(): ReturnType<Builder['newBuilder']> {
  builders ??= createRequire(import.meta.url)('junit-report-builder') as Builder;
  return builders.newBuilder();
}

/** A scenario's steps after a blank line, one each: "PASS  pod ready (0.4 s)"; nothing for other checks. */
function steps(r: CheckResult): string[] {
  if (!r.steps) return [];
  return ['', 'Steps:', ...r.steps.map((st) => `${st.status.toUpperCase().padEnd(5)} ${st.name} (${(st.durationMs / 1000).toFixed(1)} s)${st.message ? `: ${st.message}` : ''}`)];
}

function details(r: CheckResult): string {
  const lines = [r.message, ...steps(r)];
  if (r.remediation) lines.push('', `Fix: ${r.remediation}`);
  if (r.evidence) for (const [k, v] of Object.entries(r.evidence)) lines.push('', `--- ${k}`, v);
  return lines.join('\n');
}

/**
 * JUnit XML: one <testsuite> per target (host, node or `cluster`), one <testcase> per check, in a
 * deterministic order. fail → <failure>, error → <error>, skip → <skipped/>, warn → passed with the
 * warning in <system-out>. A fresh builder per report (the package's default export is a shared singleton).
 */
export const junitReporter: Reporter = {
  render(run: RunResult): string {
    const builder = newJunitBuilder();
    const targets = [...new Set(run.results.map((r) => r.target))].sort(natural);
    const knownFailures = new Set((run.baseline?.changes ?? []).filter((c) => c.kind === 'known' && (c.after === 'fail' || c.after === 'error')).map((c) => `${c.check}\u0000${c.target}`));
    for (const target of targets) {
      const suite = builder.testSuite().name(target).timestamp(run.startedAt);
      suite.property('command', run.command);
      if (run.suite) suite.property('suite', run.suite);
      for (const [k, v] of Object.entries(run.parameters ?? {})) suite.property(k, v);
      for (const r of run.results.filter((x) => x.target === target)) {
        const known = knownFailures.has(`${r.check}\u0000${r.target}`);
        const tc = suite.testCase().className(`kubecheck.${r.check.split('.')[0]}`).name(r.check).time(r.durationMs / 1000);
        if (known) {
          // Under a baseline gate a known failure does not fail the build: CI shows it as skipped.
          tc.skipped().standardOutput(`known failure, in the baseline: ${details(r)}`);
          continue;
        }
        switch (r.status) {
          // The failure's body carries the fix and the evidence: CI systems show it under the message.
          case 'fail':
            tc.failure(r.message, r.code ?? 'fail').stacktrace(details(r));
            break;
          case 'error':
            tc.error(r.message, r.code ?? 'error', details(r));
            break;
          case 'skip':
            tc.skipped().standardOutput(r.message);
            break;
          case 'warn':
            tc.standardOutput(`WARNING: ${details(r)}`);
            break;
          default:
            tc.standardOutput([r.message, ...steps(r)].join('\n'));
        }
      }
    }
    return toJenkinsShape(builder.build());
  },
};

/**
 * Trims the builder's output to what Jenkins' JUnit schema (junit-10) accepts: <testsuites> may not
 * carry `skipped` (its testsuites do).
 */
export function toJenkinsShape(xml: string): string {
  return xml.replace(/<testsuites\b[^>]*>/, (tag) => tag.replace(/\s+skipped="\d+"/, '')) + '\n';
}
