// The library: run suites, collect facts, render reports.
export { CHECKS, findCheck } from '../checks/index.js';
export { runSuite, exitCodeOf, summarize, sortResults, type HostTarget, type RunOptions, type ProgressEvent } from './core/runner.js';
export { loadSuite, parseSuite, selectChecks, type Suite, type SuiteEntry } from './suites/load.js';
export { collectNodeFacts, parseNodeFacts, nodeCollectorScript } from './collectors/node/index.js';
export { LocalTransport } from './transports/local.js';
export { InputError, type InputProblem } from './core/errors.js';
export { jsonReporter } from '../reporters/json.js';
export { junitReporter } from '../reporters/junit.js';
export { consoleReporter } from '../reporters/console.js';
export type * from './core/types.js';
export type * from './core/facts.js';
export type { Transport, ExecResult, ExecOptions } from './transports/types.js';
