import type { Reporter, RunResult } from '../src/core/types.js';

/** The JSON report, exactly as the contract: stable key order, results already sorted by the runner. */
export const jsonReporter: Reporter = {
  render(run: RunResult): string {
    return JSON.stringify(run, null, 2) + '\n';
  },
};
