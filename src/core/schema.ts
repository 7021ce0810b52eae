// One ajv for kubecheck's own schemas (suites, inventories, reports, check params). They are written
// here and checked against JSON Schema's meta-schema by the unit tests, so a run does not check them
// again: compiling the meta-schema cost every run ~25 ms per ajv instance.
import { createHash } from 'node:crypto';
import { Ajv, type Options, type ValidateFunction } from 'ajv';
import { PRECOMPILED } from './precompiled.js';

/** The options every validator is compiled with, at run time and at build time (scripts/bundle.mjs). */
export const AJV_OPTIONS: Options = { allErrors: true, strict: false, validateSchema: false };

let ajv: Ajv | undefined;

/** What a precompiled validator is found by: the digest of its schema's JSON. */
export const schemaDigest = (schema: object) => createHash('sha256').update(JSON.stringify(schema)).digest('hex').slice(0, 16);

export function compileSchema(schema: object): ValidateFunction {
  const precompiled = PRECOMPILED[schemaDigest(schema)];
  if (precompiled) return precompiled;
  ajv ??= new Ajv(AJV_OPTIONS);
  return ajv.compile(schema);
}

const TRIVIAL_FOR_EMPTY = new Set(['type', 'properties', 'additionalProperties', 'description', 'title', '$schema']);

/**
 * Whether `{}` is valid against an object schema without compiling it: true when the schema only
 * describes properties (no required ones, no combinators), as every check's params schema does.
 */
export function acceptsEmptyObject(schema: Record<string, unknown>): boolean {
  return schema.type === 'object' && Object.keys(schema).every((k) => TRIVIAL_FOR_EMPTY.has(k));
}
