import { apiErrors, ToxiproxyApiError } from './errors.ts';
import { fieldName, readStruct } from './request-body.ts';
import type { Stream, ToxicSpec } from './toxic-spec.ts';
import { findToxic } from './toxics/registry.ts';
import type { Attributes, AttributeSpec, Toxic } from './toxics/toxic.ts';

const toxicFields = { name: 'string', type: 'string', stream: 'string', toxicity: 'float32', attributes: 'object' } as const;
/** Toxiproxy's update decodes only these two fields; anything else in the body is ignored. */
const toxicUpdateFields = { toxicity: 'float32', attributes: 'object' } as const;

/**
 * Validates a toxic-create body into a spec, checking in Toxiproxy's order: body, stream, default
 * name (`<type>_<stream>`, with `stream` as given), type, duplicate name (via `exists`), then
 * attributes.
 */
export function parseToxicCreate(body: unknown, exists: (name: string) => boolean): ToxicSpec {
  const f = readStruct(body, 'ToxicWrapper', toxicFields);
  // Toxiproxy keeps the case it was given ("UPSTREAM") in the toxic's JSON and default name.
  const streamAsGiven = (f['stream'] as string | undefined) ?? 'downstream';
  const stream = parseStream(streamAsGiven);
  const type = (f['type'] as string | undefined) ?? '';
  const name = (f['name'] as string | undefined) || `${type}_${streamAsGiven}`;
  const toxic = findToxic(type);
  if (!toxic) throw apiErrors.invalidToxicType();
  if (exists(name)) throw apiErrors.toxicAlreadyExists();
  const toxicity = checkToxicity(f['toxicity'] as number | undefined, 1);
  const attributes = mergeAttributes(toxic, {}, f['attributes'] as Record<string, unknown> | undefined);
  return { name, type, stream, streamAsGiven, toxicity, attributes, toxic };
}

/**
 * Validates a toxic-update body against the current spec: attributes given are merged over the
 * current ones, toxicity replaces the current one if given. Like Toxiproxy, every other field
 * (`name`, `type`, `stream` — the Node client sends the whole toxic) is ignored.
 */
export function parseToxicUpdate(body: unknown, current: ToxicSpec): ToxicSpec {
  const f = readStruct(body, 'ToxicWrapper', toxicUpdateFields);
  const toxicity = checkToxicity(f['toxicity'] as number | undefined, current.toxicity);
  const attributes = mergeAttributes(current.toxic, current.attributes, f['attributes'] as Record<string, unknown> | undefined);
  return { ...current, toxicity, attributes };
}

function parseStream(value: string): Stream {
  const lower = value.toLowerCase();
  if (lower === 'upstream' || lower === 'downstream') return lower;
  throw apiErrors.invalidStream();
}

/** Largest float32; Go's decoder refuses a `toxicity` beyond it (JSON.parse gives Infinity for 1e999). */
const MAX_FLOAT32 = 3.4028234663852886e38;

/** Any number is a toxicity Toxiproxy accepts (≥ 1 always applies, ≤ 0 never), within float32. */
function checkToxicity(value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(Math.abs(value) <= MAX_FLOAT32)) {
    throw apiErrors.badRequestBody(`json: cannot unmarshal number ${value} into Go struct field ToxicWrapper.toxicity of type float32`);
  }
  return value;
}

/**
 * Merges given attributes over `base`. Keys match case-insensitively and unknown ones are ignored,
 * as Go's decoder does; a value of the wrong type is a 400. Ranges apply to the result (a
 * bandwidth toxic with no rate is a 400, since its rate is then 0).
 */
function mergeAttributes(toxic: Toxic, base: Attributes, given: Record<string, unknown> | undefined): Attributes {
  const out: Record<string, number> = {};
  const specs = Object.fromEntries(toxic.attributes.map((a) => [a.name, a]));
  for (const spec of toxic.attributes) out[spec.name] = base[spec.name] ?? 0;
  for (const [key, value] of Object.entries(given ?? {})) {
    const name = fieldName(key, specs);
    const spec = name === undefined ? undefined : specs[name];
    if (!spec || value === null) continue;
    out[spec.name] = checkAttribute(spec, value);
  }
  for (const spec of toxic.attributes) checkAttribute(spec, out[spec.name]);
  const problem = toxic.check?.(out);
  if (problem) throw new ToxiproxyApiError(400, problem);
  return out;
}

function checkAttribute(spec: AttributeSpec, value: unknown): number {
  const max = spec.max ?? Number.MAX_SAFE_INTEGER;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new ToxiproxyApiError(400, `toxic attribute \`${spec.name}\` must be an integer (${spec.unit}), got ${JSON.stringify(value)}`);
  }
  if (value < spec.min) {
    const expected = spec.min === 1 ? 'a positive integer' : spec.min === 0 ? 'a non-negative integer' : `at least ${spec.min}`;
    throw new ToxiproxyApiError(400, `toxic attribute \`${spec.name}\` must be ${expected} (${spec.unit}), got ${value}`);
  }
  if (value > max) {
    throw new ToxiproxyApiError(400, `toxic attribute \`${spec.name}\` must be at most ${max} (${spec.unit}), got ${value}`);
  }
  return value;
}
