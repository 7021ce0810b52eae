import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHECKS } from '../../checks/index.js';
import { GENERIC_CODES, fail } from '../../src/core/findings.js';
import { judgeNode } from '../../src/core/executors.js';
import type { NodeCheck } from '../../src/core/types.js';
import { ROOT, factsFrom, hostCtx } from '../helpers.js';

/** The check files of an area, by the id their check declares. */
function sources(): Map<string, string> {
  const out = new Map<string, string>();
  for (const area of ['node', 'fleet', 'cni', 'cluster', 'token', 'workloads']) {
    for (const file of readdirSync(join(ROOT, 'checks', area)).filter((f) => f.endsWith('.ts'))) {
      const text = readFileSync(join(ROOT, 'checks', area, file), 'utf8');
      const id = /id: '([a-z0-9.-]+)'/.exec(text)?.[1];
      if (id) out.set(id, text);
    }
  }
  return out;
}

describe('finding codes', () => {
  it('every check declares codes, in kebab-case, each explained', () => {
    for (const c of CHECKS) {
      for (const [code, what] of Object.entries(c.codes)) {
        expect(code, c.id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
        expect(what.length, `${c.id}/${code}`).toBeGreaterThan(10);
      }
    }
  });
  it('every code a check\'s source gives is one it declares (or a generic one)', () => {
    const byId = new Map(CHECKS.map((c) => [c.id, c]));
    for (const [id, text] of sources()) {
      const check = byId.get(id);
      if (!check) continue;
      const used = [...text.matchAll(/\bcodes?: ([^\n]+)/g)].flatMap((m) => [...m[1].matchAll(/'([a-z0-9-]+)'/g)].map((x) => x[1]));
      const mapped = [...text.matchAll(/'net\.[^']+': '([a-z0-9-]+)'/g)].map((m) => m[1]);
      for (const code of [...used, ...mapped]) {
        if (code in check.codes || code in GENERIC_CODES) continue;
        // Codes given with a declaration's own text (`codes: { swap-on: '…' }`) are the declaration itself.
        expect.soft(Object.keys(check.codes), `${id} gives '${code}'`).toContain(code);
      }
    }
  });
  it('the runner qualifies codes and turns an undeclared one into an error naming it', () => {
    const swap = CHECKS.find((c) => c.id === 'node.swap') as NodeCheck;
    const r = judgeNode(swap, factsFrom('w1-pre-problems.txt'), hostCtx());
    expect(r).toMatchObject({ status: 'fail', code: 'node.swap/swap-on' });
    const rogue: NodeCheck = { ...swap, run: () => fail('made up', { code: 'made-up' }) };
    expect(judgeNode(rogue, factsFrom('w1-pre-problems.txt'), hostCtx())).toMatchObject({ status: 'error', code: 'node.swap/crashed', message: 'the check returned a code it does not declare (made-up): made up' });
  });
});
