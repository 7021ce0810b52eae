import type { Diagnosis } from '../core/types.js';
import type { Confidence, NodeEvidence } from './evidence.js';
import { RULES } from './rules/index.js';

const RANK: Record<Confidence, number> = { high: 0, medium: 1, low: 2 };

/** Every matching cause for one node, most likely first; `healthy` when none matches. */
export function diagnose(e: NodeEvidence, state?: string): Diagnosis[] {
  const found = RULES.flatMap((rule) => {
    let m;
    try {
      m = rule.match(e);
    } catch (err: unknown) {
      // A rule that crashes is a bug: the node's result becomes an error naming it (runDoctor catches this).
      throw new Error(`doctor rule ${rule.cause} crashed on ${e.node}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    return m ? [{ rule, m }] : [];
  });
  found.sort((a, b) => RANK[a.m.confidence] - RANK[b.m.confidence] || a.rule.depth - b.rule.depth);
  const base = { node: e.node, ...(state ? { state } : {}) };
  if (found.length === 0) {
    const seen = [e.cluster ? 'cluster' : '', e.host ? 'host' : ''].filter(Boolean).join(' and ');
    return [{ ...base, cause: 'healthy', confidence: seen.includes('host') ? 'high' : 'medium', summary: `no known cause found in the ${seen || 'available'} evidence`, evidence: [], fix: [] }];
  }
  return found.map(({ rule, m }) => ({ ...base, cause: rule.cause, confidence: m.confidence, summary: m.summary, evidence: m.evidence, fix: m.fix, ...(m.codes?.length ? { codes: m.codes } : {}) }));
}
