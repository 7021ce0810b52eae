// Validators compiled from kubecheck's own schemas at build time, by their schema's digest (schemaDigest).
// Empty here, where tests run the sources and compileSchema compiles at run time; scripts/bundle.mjs puts
// ajv's standalone code for the suite, inventory and report schemas in its place in the CLI's bundle, so a
// run compiles none of them (~15-30 ms each, before the first host is reached).
import type { ValidateFunction } from 'ajv';

export const PRECOMPILED: Record<string, ValidateFunction> = {};
