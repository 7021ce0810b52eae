// The library: run suites, collect facts, render reports.
export { CHECKS, findCheck } from '../checks/index.js';
export { runSuite, exitCodeOf, summarize, sortResults, type RunOptions, type ProgressEvent, type CollectFacts, type ClusterSource } from './core/runner.js';
export { judgeNode, judgeFleet, judgeCluster, judgeWorkload } from './core/executors.js';
export { collectFromHost, type ConnectableHost } from './collectors/host.js';
export { runDoctor } from './doctor/run.js';
export { loadSuite, parseSuite, selectChecks, type Suite, type SuiteEntry } from './suites/load.js';
export { collectNodeFacts, parseNodeFacts, nodeCollectorScript } from './collectors/node/index.js';
export { LocalTransport } from './transports/local.js';
export { InputError, type InputProblem } from './core/errors.js';
export { jsonReporter } from '../reporters/json.js';
export { junitReporter } from '../reporters/junit.js';
export { consoleReporter } from '../reporters/console.js';
export type * from './core/types.js';
export type * from './core/facts.js';
export type * from './core/cluster.js';
export type { Transport, ExecResult, ExecOptions } from './transports/types.js';
