import { accessSync, closeSync, constants, openSync, statSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { consoleReporter } from '../../reporters/console.js';
import { jsonChunks } from '../../reporters/json.js';
import { junitReporter } from '../../reporters/junit.js';
import { InputError } from '../core/errors.js';
import type { RunResult } from '../core/types.js';

export interface OutputOptions {
  json?: string;
  saveBaseline?: string;
  junit?: string;
  output?: 'text' | 'json' | 'junit';
  quiet?: boolean;
  color?: boolean;
  verbose?: boolean;
}

export function useColor(options: OutputOptions, stream: NodeJS.WriteStream = process.stdout): boolean {
  if (options.color === false || process.env.NO_COLOR !== undefined) return false;
  if (process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true;
}

/** Fails early, before a long run, when a report could not be written where asked. */
export function checkReportPaths(options: OutputOptions): void {
  const problems = [];
  for (const [flag, path] of [['--json', options.json], ['--junit', options.junit], ['--save-baseline', options.saveBaseline]] as const) {
    if (!path || path === '-') continue;
    const full = resolve(path);
    try {
      if (statSync(full, { throwIfNoEntry: false })?.isDirectory()) throw Object.assign(new Error(), { code: 'EISDIR' });
      accessSync(dirname(full), constants.W_OK);
    } catch (err: unknown) {
      const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
      const why = code === 'ENOENT' ? 'its folder does not exist' : code === 'EISDIR' ? 'it is a folder' : code === 'EACCES' ? 'permission denied' : code;
      problems.push({ message: `${flag} ${path}: cannot write the report there (${why})` });
    }
  }
  if (problems.length) throw new InputError(problems);
}

/** Writes a report given as one string or in pieces (gathered into writes of about a megabyte). */
export function writeReport(flag: string, path: string, text: string | Iterable<string>): void {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'w');
    const file = fd;
    writeChunks((t) => writeSync(file, t), typeof text === 'string' ? [text] : text);
  } catch (err: unknown) {
    throw new InputError([{ message: `${flag} ${path}: cannot write the report (${(err as NodeJS.ErrnoException).code ?? String(err)})` }]);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function writeChunks(write: (text: string) => void, chunks: Iterable<string>): void {
  let pending: string[] = [];
  let size = 0;
  const flush = () => {
    if (pending.length) write(pending.join(''));
    pending = [];
    size = 0;
  };
  for (const c of chunks) {
    pending.push(c);
    size += c.length;
    if (size >= 1 << 20) flush();
  }
  flush();
}

/** Renders the run to stdout and the asked files. Reporters render; they never decide the exit code. */
export function emitReports(run: RunResult, options: OutputOptions): void {
  if (options.json) writeReport('--json', options.json, jsonChunks(run));
  if (options.junit) writeReport('--junit', options.junit, junitReporter.render(run));
  if (options.saveBaseline) writeReport('--save-baseline', options.saveBaseline, jsonChunks(run));
  const format = options.output ?? 'text';
  // Synchronous on a file, a pipe or a terminal on Linux: the pieces are never all held at once.
  if (format === 'json') writeChunks((t) => process.stdout.write(t), jsonChunks(run));
  else if (format === 'junit') process.stdout.write(junitReporter.render(run));
  else if (!options.quiet) {
    process.stdout.write(consoleReporter({ color: useColor(options), ...(options.verbose ? { verbose: true } : {}) }).render(run));
  } else {
    const s = run.summary;
    process.stdout.write(`${s.pass} passed, ${s.warn} warnings, ${s.fail} failed, ${s.error} errors, ${s.skip} skipped\n`);
  }
}
