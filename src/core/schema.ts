// One ajv for kubecheck's own schemas (suites, inventories, reports, check params). They are written
// here and checked against JSON Schema's meta-schema by the unit tests, so a run does not check them
// again: compiling the meta-schema cost every run ~25 ms per ajv instance.
import { Ajv, type ValidateFunction } from 'ajv';

let ajv: Ajv | undefined;

export function compileSchema(schema: object): ValidateFunction {
  ajv ??= new Ajv({ allErrors: true, strict: false, validateSchema: false });
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
