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
 * Checks a decoded body against a flat struct: it must be an object; each known field must have
 * its kind (null counts as absent, as in Go); unknown fields are refused (Toxiproxy silently
 * ignores them, which hides typos such as `"toxicty"`). Returns the fields present.
 */
export function readStruct(body: unknown, struct: string, fields: Readonly<Record<string, FieldKind>>): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw apiErrors.badRequestBody(`json: cannot unmarshal ${jsonTypeName(body)} into Go value of type toxiproxy.${struct}`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    const kind = fields[key];
    if (kind === undefined) {
      throw apiErrors.badRequestBody(`json: unknown field ${JSON.stringify(key)} (known fields: ${Object.keys(fields).join(', ')})`);
    }
    if (value === null) continue;
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
