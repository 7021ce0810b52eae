import type { Reporter, RunResult } from '../src/core/types.js';

/** Arrays longer than this are written element by element. */
const STREAMED = 64;

/**
 * The JSON report in pieces, together exactly the text of `JSON.stringify(run, null, 2)`: the run object
 * and its long arrays (results, targets) are written element by element, so a report on thousands of
 * hosts is never one string of hundreds of megabytes (nor, twice over, its UTF-8 copy).
 */
export function* jsonChunks(run: RunResult): Generator<string> {
  yield* pieces(run, '', 0);
  yield '\n';
}

function* pieces(value: unknown, indent: string, depth: number): Generator<string> {
  const inner = `${indent}  `;
  if (depth < 2 && Array.isArray(value) && value.length > STREAMED) {
    yield '[\n';
    for (let i = 0; i < value.length; i++) {
      yield inner;
      // As JSON.stringify does: what has no JSON form is null in an array.
      const v: unknown = value[i];
      yield* (v === undefined || typeof v === 'function' || typeof v === 'symbol' ? ['null'] : pieces(v, inner, depth + 1));
      yield i < value.length - 1 ? ',\n' : '\n';
    }
    yield `${indent}]`;
    return;
  }
  if (depth === 0 && value !== null && typeof value === 'object' && !Array.isArray(value) && typeof (value as { toJSON?: unknown }).toJSON !== 'function') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined && typeof v !== 'function' && typeof v !== 'symbol');
    if (!entries.length) {
      yield '{}';
      return;
    }
    yield '{\n';
    for (let i = 0; i < entries.length; i++) {
      yield `${inner}${JSON.stringify(entries[i][0])}: `;
      yield* pieces(entries[i][1], inner, depth + 1);
      yield i < entries.length - 1 ? ',\n' : '\n';
    }
    yield `${indent}}`;
    return;
  }
  const text = JSON.stringify(value, null, 2);
  yield indent ? text.replace(/\n/g, `\n${indent}`) : text;
}

/** The JSON report, exactly as the contract: stable key order, results already sorted by the runner. */
export const jsonReporter: Reporter = {
  render(run: RunResult): string {
    return [...jsonChunks(run)].join('');
  },
};
