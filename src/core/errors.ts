import { readFileSync } from 'node:fs';

/** One problem with the user's input, located as precisely as we can. */
export interface InputProblem {
  file?: string;
  line?: number;
  column?: number;
  /** JSON-pointer-like path inside the document (`/checks/3/params/phase`). */
  path?: string;
  message: string;
  /** Warnings are reported but do not stop the run (e.g. unknown inventory keys). */
  severity?: 'error' | 'warning';
}

export function formatProblem(p: InputProblem): string {
  const where = [p.file, p.line, p.line !== undefined ? p.column : undefined].filter((x) => x !== undefined).join(':');
  const prefix = p.severity === 'warning' ? 'warning: ' : '';
  return `${where ? `${where}: ` : ''}${prefix}${p.path ? `${p.path}: ` : ''}${p.message}`;
}

/** Bad usage or input (inventory, suite, kubeconfig, arguments): every problem at once, exit code 2. */
export class InputError extends Error {
  constructor(readonly problems: InputProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'InputError';
  }
}

/** Reads a file the user named; a missing or unreadable one is an input error naming it (exit 2). */
export function readInputFile(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err: unknown) {
    throw new InputError([{ file, message: `cannot read the ${what}: ${(err as NodeJS.ErrnoException).code ?? String(err)}` }]);
  }
}
