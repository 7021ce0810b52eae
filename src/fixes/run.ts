import type { ConnectableHost } from '../collectors/host.js';
import { collectNodeFacts } from '../collectors/node/index.js';
import { judgeNode } from '../core/executors.js';
import type { NodeFacts } from '../core/facts.js';
import type { Check, CheckResult, NodeCheck } from '../core/types.js';
import type { Transport } from '../transports/types.js';
import { type Fix, fixScript } from './fixes.js';

export interface FixOptions {
  /** The check registry: a fix judges the host with its check, before and after. */
  checks: readonly Check[];
  apply: boolean;
  from?: string;
  /** Asks the operator before changing the host; false means no. */
  confirm: (question: string) => Promise<boolean>;
  out: (line: string) => void;
  signal: AbortSignal;
  timeoutMs: number;
}

export interface FixOutcome {
  /** 'refused': the check passes, or the fix cannot run; 'dry-run': nothing changed. */
  outcome: 'refused' | 'dry-run' | 'declined' | 'fixed' | 'still-failing';
  before: CheckResult;
  after?: CheckResult;
}

function judge(check: NodeCheck, facts: NodeFacts, fix: Fix, host: ConnectableHost): CheckResult {
  return judgeNode(check, facts, { host: host.name, roles: host.roles, phase: fix.phase(facts), params: {}, now: new Date() });
}

/**
 * Runs one fix on one host over a single connection: collect, judge, plan, (apply, collect again, judge).
 * Dry-run by default; nothing is changed unless options.apply and the operator agrees.
 */
export async function runFix(fix: Fix, host: ConnectableHost, options: FixOptions): Promise<FixOutcome> {
  const check = options.checks.find((c): c is NodeCheck => c.id === fix.check && c.kind === 'node');
  if (!check) throw new Error(`fix ${fix.name}: its check ${fix.check} is not in the registry`);
  let transport: Transport | undefined;
  try {
    const opened = await host.open(options.signal);
    transport = opened;
    const exec = { timeoutMs: options.timeoutMs, signal: options.signal };
    const facts = await collectNodeFacts(opened, exec);
    const before = judge(check, facts, fix, host);
    if (before.status === 'pass' || before.status === 'skip') {
      options.out(`${fix.check} ${before.status === 'pass' ? 'passes' : 'does not apply'} on ${host.name} (${before.message}): nothing to fix.`);
      return { outcome: 'refused', before };
    }
    if (before.status === 'error') {
      options.out(`${fix.check} could not run on ${host.name}: ${before.message}. Not fixing blind.`);
      return { outcome: 'refused', before };
    }
    options.out(`${fix.check} on ${host.name}: ${before.status.toUpperCase()} — ${before.message}`);
    const plan = fix.plan(facts, options.from ? { from: options.from } : {});
    if ('refuse' in plan) {
      options.out(`cannot fix: ${plan.refuse}`);
      return { outcome: 'refused', before };
    }
    options.out(`\nWhy: ${plan.why}\n\n${options.apply ? 'Running' : 'Would run'} on ${host.name}:`);
    for (const c of plan.commands) options.out(`  ${c}`);
    for (const n of plan.notes) options.out(`  (note: ${n})`);
    if (!options.apply) {
      options.out('\nDry run: nothing was changed. Add --apply to run these commands.');
      return { outcome: 'dry-run', before };
    }
    if (!(await options.confirm(`Run these ${plan.commands.length} commands on ${host.name}?`))) {
      options.out('Not confirmed: nothing was changed.');
      return { outcome: 'declined', before };
    }
    const res = await opened.exec(fixScript(plan), exec);
    if (res.code !== 0) options.out(`the fix stopped with exit code ${res.code}: ${(res.stderr || res.stdout).trim().split('\n').slice(-5).join(' | ')}`);
    const again = await collectNodeFacts(opened, exec);
    const after = judge(check, again, fix, host);
    options.out(`\nAfter the fix: ${fix.check} ${after.status.toUpperCase()} — ${after.message}`);
    return { outcome: after.status === 'pass' ? 'fixed' : 'still-failing', before, after };
  } finally {
    await transport?.close().catch(() => undefined);
  }
}
