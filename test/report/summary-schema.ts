/**
 * Validates summaries against the published contract, docs/summary.schema.json (JSON Schema draft
 * 2020-12), with ajv. Every test that produces or reads a summary calls {@link expectValidSummary},
 * so a renamed or retyped field fails the suite instead of reaching users' pipelines.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { expect } from 'vitest';

const SCHEMA_PATH = new URL('../../docs/summary.schema.json', import.meta.url);

/** The published schema, parsed. */
export const summarySchema = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as Record<string, unknown>;

// ajv-formats is CommonJS; under NodeNext its default import is the module object.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (a: Ajv2020) => Ajv2020;
const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
const validate = ajv.compile(summarySchema);

/** The schema's complaints about `value` (JSON round-tripped first, as a reader would see the file), one line each; empty when valid. */
export function summaryErrors(value: unknown): string[] {
  const json: unknown = JSON.parse(JSON.stringify(value));
  if (validate(json)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}${e.params ? ' ' + JSON.stringify(e.params) : ''}`);
}

/** Fail the current test, naming each violation, unless `value` matches docs/summary.schema.json. */
export function expectValidSummary(value: unknown): void {
  expect(summaryErrors(value), 'summary.json must match docs/summary.schema.json').toEqual([]);
}
