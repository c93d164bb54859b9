import { apiErrors } from './errors.ts';

/** Field kinds a request body may carry, with the Go type name Toxiproxy's messages use. */
export type FieldKind = 'string' | 'bool' | 'float32' | 'object';

/**
 * Parses a request body as JSON. Errors read like Toxiproxy's (`bad request body: EOF` for an
 * empty body), with JavaScript's own description of a syntax error.
 */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') throw apiErrors.badRequestBody('EOF');
  try {
    return JSON.parse(text) as unknown;
  } catch (err: unknown) {
    throw apiErrors.badRequestBody(`invalid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The JSON type of a value as Go's encoding/json names it in errors. */
export function jsonTypeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'boolean') return 'bool';
  return typeof value; // string | number | object
}

/**
 * Reads a decoded body as Go's `encoding/json` reads it into a flat struct: it must be an object;
 * keys match field names case-insensitively (`"Stream"` sets `stream`), a later key overrides an
 * earlier one; each known field must have its kind (null leaves the field as it was, as in Go);
 * unknown fields are ignored, as Toxiproxy ignores them (chatstorm's own scenario validation
 * catches typos before they reach this API). Returns the fields present, by their own name.
 */
export function readStruct(body: unknown, struct: string, fields: Readonly<Record<string, FieldKind>>): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw apiErrors.badRequestBody(`json: cannot unmarshal ${jsonTypeName(body)} into Go value of type toxiproxy.${struct}`);
  }
  const out: Record<string, unknown> = {};
  for (const [rawKey, value] of Object.entries(body)) {
    const key = fieldName(rawKey, fields);
    const kind = key === undefined ? undefined : fields[key];
    if (key === undefined || kind === undefined || value === null) continue;
    const ok =
      kind === 'string'
        ? typeof value === 'string'
        : kind === 'bool'
          ? typeof value === 'boolean'
          : kind === 'float32'
            ? typeof value === 'number'
            : typeof value === 'object' && !Array.isArray(value);
    if (!ok) {
      const goType = kind === 'object' ? 'map[string]interface {}' : kind;
      throw apiErrors.badRequestBody(
        `json: cannot unmarshal ${jsonTypeName(value)} into Go struct field ${struct}.${key} of type ${goType}`,
      );
    }
    out[key] = value;
  }
  return out;
}

/** The field a JSON key sets: an exact match first, else a case-insensitive one (Go's rule). */
export function fieldName(key: string, fields: Readonly<Record<string, unknown>>): string | undefined {
  if (Object.hasOwn(fields, key)) return key;
  const lower = key.toLowerCase();
  return Object.keys(fields).find((f) => f.toLowerCase() === lower);
}
