import { Ajv2020 } from 'ajv/dist/2020.js';
import { Ajv } from 'ajv';
import { createRequire } from 'node:module';
import type { ValidateFunction, ErrorObject } from 'ajv';

// ajv-formats is CommonJS whose typings describe an ESM default export; require() gives the plain function.
const addFormats = createRequire(import.meta.url)('ajv-formats') as (ajv: unknown) => void;

export type { ValidateFunction, ErrorObject };

function configure<T extends Ajv | Ajv2020>(ajv: T): T {
  addFormats(ajv);
  return ajv;
}

// Upstream schemas are untrusted and often sloppy: unknown keywords must not stop a tool
// from being validated at all (strict: false), but every call is still checked against
// what the schema does say. allErrors stays off so a hostile schema cannot make one
// call enumerate thousands of errors.
const draft2020 = configure(new Ajv2020({ strict: false, allErrors: false, validateFormats: true }));
const draft07 = configure(new Ajv({ strict: false, allErrors: false, validateFormats: true }));

/** Compiles a JSON Schema once; MCP says schemas without `$schema` are 2020-12. */
export function compileSchema(schema: Record<string, unknown>): ValidateFunction {
  const declared = typeof schema.$schema === 'string' ? schema.$schema : '';
  const ajv = /draft-0[4-7]/.test(declared) ? draft07 : draft2020;
  // A schema's $id would be registered globally in the Ajv instance and clash with the
  // next tool that reuses it, so compile an anonymous copy.
  const { $id: _ignored, ...anonymous } = schema;
  return ajv.compile(anonymous);
}

/** One human sentence for the first validation error: which argument and why. */
export function describeSchemaError(errors: ErrorObject[] | null | undefined, root = 'arguments'): string {
  const e = errors?.[0];
  if (!e) return `${root} do not match the schema`;
  const where = e.instancePath ? `${root}${e.instancePath.replace(/\//g, '.')}` : root;
  switch (e.keyword) {
    case 'required':
      return `${root}${e.instancePath.replace(/\//g, '.')}.${(e.params as { missingProperty: string }).missingProperty} is required`;
    case 'additionalProperties':
      return `${where}.${(e.params as { additionalProperty: string }).additionalProperty} is not an accepted argument`;
    case 'pattern':
      return `${where} must match ${(e.params as { pattern: string }).pattern}`;
    case 'enum':
      return `${where} must be one of ${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues)}`;
    default:
      return `${where} ${e.message ?? 'is invalid'}`;
  }
}
