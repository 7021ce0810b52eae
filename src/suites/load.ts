import { readFileSync } from 'node:fs';
import type { ValidateFunction } from 'ajv';
import picomatch from 'picomatch';
import { CHECKS, findCheck } from '../../checks/index.js';
import { assetPath } from '../core/assets.js';
import { InputError, readInputFile, type InputProblem } from '../core/errors.js';
import type { Phase, Role, WorkloadSettings } from '../core/types.js';
import { acceptsEmptyObject, compileSchema } from '../core/schema.js';
import { loadYaml, positionOf, schemaProblems } from '../core/yaml-doc.js';

export type { Suite, SuiteEntry } from '../core/types.js';
import type { Suite, SuiteEntry } from '../core/types.js';

interface RawSuite {
  name: string;
  description?: string;
  phase?: Phase;
  roles?: Role[];
  checks: (string | { id: string; params?: Record<string, unknown> })[];
  workloads?: WorkloadSettings;
}

let validateSuite: ValidateFunction | undefined;
const paramValidators = new Map<string, ValidateFunction>();

/** The check's params validator: compiled only when there are params to check (`{}` passes a schema of optional properties). */
function paramsValidator(id: string, params: Record<string, unknown>): ValidateFunction | 'none' | undefined {
  const check = findCheck(id);
  if (!check?.params) return undefined;
  let v = paramValidators.get(id);
  if (!v) {
    if (Object.keys(params).length === 0 && acceptsEmptyObject(check.params)) return 'none';
    v = compileSchema(check.params);
    paramValidators.set(id, v);
  }
  return v;
}

/** Loads and validates a suite file; every problem (YAML, schema, unknown ids, bad params) reported together. */
export function loadSuite(file: string): Suite {
  return parseSuite(readInputFile(file, 'suite'), file);
}

export function parseSuite(text: string, file: string): Suite {
  const loaded = loadYaml(text, file);
  if (loaded.problems.length) throw new InputError(loaded.problems);
  validateSuite ??= compileSchema(JSON.parse(readFileSync(assetPath('suites/suite.schema.json'), 'utf8')));
  if (!validateSuite(loaded.value)) throw new InputError(schemaProblems(validateSuite.errors, loaded, file));

  const raw = loaded.value as RawSuite;
  const problems: InputProblem[] = [];
  const entries: SuiteEntry[] = [];
  const seen = new Set<string>();
  raw.checks.forEach((item, index) => {
    const id = typeof item === 'string' ? item : item.id;
    const params = typeof item === 'string' ? {} : (item.params ?? {});
    const pointer = typeof item === 'string' ? `/checks/${index}` : `/checks/${index}/id`;
    const glob = picomatch(id);
    const ids = /[*?]/.test(id) ? CHECKS.map((c) => c.id).filter((known) => glob(known)) : [id];
    if (ids.length === 0 || !findCheck(ids[0])) {
      const near = CHECKS.map((c) => c.id).filter((known) => known.split('.')[0] === id.split('.')[0]);
      problems.push({
        file,
        ...positionOf(loaded, pointer),
        path: pointer,
        message: /[*?]/.test(id)
          ? `'${id}' matches no check`
          : `unknown check id '${id}'${near.length ? ` (known in that area: ${near.join(', ')})` : ''}`,
      });
      return;
    }
    for (const checkId of ids) {
      const validate = paramsValidator(checkId, params);
      if (Object.keys(params).length && !validate) {
        problems.push({ file, ...positionOf(loaded, `/checks/${index}/params`), path: `/checks/${index}/params`, message: `${checkId} takes no params` });
        continue;
      }
      if (validate && validate !== 'none' && !validate(params)) {
        problems.push(...schemaProblems(validate.errors, loaded, file, `/checks/${index}/params`).map((p) => ({ ...p, message: `${checkId}: ${p.message}` })));
        continue;
      }
      if (seen.has(checkId)) continue;
      seen.add(checkId);
      entries.push({ id: checkId, params });
    }
  });
  if (problems.length) throw new InputError(problems);
  return {
    name: raw.name,
    ...(raw.description ? { description: raw.description } : {}),
    ...(raw.phase ? { phase: raw.phase } : {}),
    ...(raw.roles ? { roles: raw.roles } : {}),
    checks: entries,
    ...(raw.workloads ? { workloads: raw.workloads } : {}),
    file,
  };
}

/** A suite shipped in suites/, by name (`preflight`) or a path to any suite file. */
export function resolveSuitePath(nameOrPath: string): string {
  if (/[/\\]|\.ya?ml$/.test(nameOrPath)) return nameOrPath;
  return assetPath(`suites/${nameOrPath}.yaml`);
}

/** Keeps the entries selected by --only and --skip (ids or globs); an --only that selects nothing is an input error. */
export function selectChecks(entries: SuiteEntry[], only: string[], skip: string[]): SuiteEntry[] {
  const matches = (patterns: string[]) => patterns.map((p) => picomatch(p));
  const onlyM = matches(only);
  const skipM = matches(skip);
  const chosen = entries.filter((e) => (onlyM.length === 0 || onlyM.some((m) => m(e.id))) && !skipM.some((m) => m(e.id)));
  if (only.length && chosen.length === 0) {
    throw new InputError([{ message: `--only ${only.join(',')} selects none of this suite's checks (${entries.map((e) => e.id).join(', ')})` }]);
  }
  return chosen;
}
