// kubecheck's own schemas are compiled at run time without checking them against JSON Schema's
// meta-schema (src/core/schema.ts): this is where they are checked.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { CHECKS } from '../../checks/index.js';
import { acceptsEmptyObject } from '../../src/core/schema.js';
import { NATIVE_SCHEMA } from '../../src/inventory/load.js';
import { ROOT } from '../helpers.js';

const checking = () => new Ajv({ allErrors: true, strict: false });

describe("kubecheck's schemas", () => {
  const files = ['suites/suite.schema.json', 'reporters/report.schema.json'];
  const schemas: [string, object][] = [
    ...files.map((f) => [f, JSON.parse(readFileSync(join(ROOT, f), 'utf8'))] as [string, object]),
    // As compiled: through JSON, which drops the defaults' undefined name/host/roles.
    ['the native inventory schema', JSON.parse(JSON.stringify(NATIVE_SCHEMA))],
    ...CHECKS.filter((c) => c.params).map((c) => [`${c.id} params`, c.params!] as [string, object]),
  ];

  it('are valid JSON Schema (checked against the meta-schema here, not at every run)', () => {
    const ajv = checking();
    const invalid = schemas.flatMap(([name, s]) => (ajv.validateSchema(s) ? [] : [`${name}: ${ajv.errorsText()}`]));
    expect(invalid).toEqual([]);
    expect(schemas.length).toBeGreaterThan(5);
  });

  it('acceptsEmptyObject agrees with ajv for every check params schema, and says no where {} could fail', () => {
    const ajv = checking();
    for (const c of CHECKS.filter((x) => x.params)) {
      if (acceptsEmptyObject(c.params!)) expect(ajv.validate(c.params!, {}), c.id).toBe(true);
    }
    expect(acceptsEmptyObject({ type: 'object', properties: { a: { type: 'string' } }, required: ['a'] })).toBe(false);
    expect(acceptsEmptyObject({ type: 'object', anyOf: [{ required: ['a'] }] })).toBe(false);
    expect(acceptsEmptyObject({ type: 'object', minProperties: 1 })).toBe(false);
    expect(acceptsEmptyObject({ type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false })).toBe(true);
  });
});
