import { apiErrors, ToxiproxyApiError } from './errors.ts';
import { readStruct } from './request-body.ts';
import type { Stream, ToxicSpec } from './toxic-spec.ts';
import { findToxic } from './toxics/registry.ts';
import type { Attributes, AttributeSpec, Toxic } from './toxics/toxic.ts';

const toxicFields = { name: 'string', type: 'string', stream: 'string', toxicity: 'float32', attributes: 'object' } as const;

/**
 * Validates a toxic-create body into a spec, checking in Toxiproxy's order: body, stream, default
 * name (`<type>_<stream>`), type, duplicate name (via `exists`), then attributes.
 */
export function parseToxicCreate(body: unknown, exists: (name: string) => boolean): ToxicSpec {
  const f = readStruct(body, 'ToxicWrapper', toxicFields);
  const streamRaw = (f['stream'] as string | undefined) ?? 'downstream';
  const stream = parseStream(streamRaw);
  const type = (f['type'] as string | undefined) ?? '';
  const name = (f['name'] as string | undefined) || `${type}_${stream}`;
  const toxic = findToxic(type);
  if (!toxic) throw apiErrors.invalidToxicType();
  if (exists(name)) throw apiErrors.toxicAlreadyExists();
  const toxicity = checkToxicity(f['toxicity'] as number | undefined, 1);
  const attributes = mergeAttributes(toxic, {}, f['attributes'] as Record<string, unknown> | undefined);
  return { name, type, stream, toxicity, attributes, toxic };
}

/**
 * Validates a toxic-update body against the current spec: attributes given are merged over the
 * current ones, toxicity replaces the current one if given. `name`, `type` and `stream` may be
 * repeated (the Node client sends the whole toxic) but not changed: Toxiproxy would silently
 * ignore a change; here it is refused, since a toxic cannot move or change type in place.
 */
export function parseToxicUpdate(body: unknown, current: ToxicSpec): ToxicSpec {
  const f = readStruct(body, 'ToxicWrapper', toxicFields);
  for (const key of ['name', 'type', 'stream'] as const) {
    const given = f[key];
    const now = key === 'stream' ? current.stream : current[key];
    if (given !== undefined && (key === 'stream' ? parseStream(given as string) : given) !== now) {
      throw new ToxiproxyApiError(
        400,
        `toxic field \`${key}\` cannot be changed by an update (is ${JSON.stringify(now)}, got ${JSON.stringify(given)}); delete the toxic and create it again`,
      );
    }
  }
  const toxicity = checkToxicity(f['toxicity'] as number | undefined, current.toxicity);
  const attributes = mergeAttributes(current.toxic, current.attributes, f['attributes'] as Record<string, unknown> | undefined);
  return { ...current, toxicity, attributes };
}

function parseStream(value: string): Stream {
  const lower = value.toLowerCase();
  if (lower === 'upstream' || lower === 'downstream') return lower;
  throw apiErrors.invalidStream();
}

function checkToxicity(value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(value >= 0 && value <= 1)) {
    throw new ToxiproxyApiError(400, `toxic field \`toxicity\` must be a probability from 0 to 1, got ${value}`);
  }
  return value;
}

function mergeAttributes(toxic: Toxic, base: Attributes, given: Record<string, unknown> | undefined): Attributes {
  const out: Record<string, number> = {};
  for (const spec of toxic.attributes) out[spec.name] = base[spec.name] ?? 0;
  for (const [key, value] of Object.entries(given ?? {})) {
    const spec = toxic.attributes.find((a) => a.name === key);
    if (!spec) {
      const known = toxic.attributes.map((a) => a.name).join(', ') || '(none)';
      throw new ToxiproxyApiError(400, `toxic attribute \`${key}\` is not known for toxic type \`${toxic.type}\` (known: ${known})`);
    }
    if (value === null) continue;
    out[key] = checkAttribute(spec, value);
  }
  // Missing attributes are 0 in Toxiproxy; ranges apply to the result (bandwidth with no rate is 400).
  for (const spec of toxic.attributes) checkAttribute(spec, out[spec.name]);
  const problem = toxic.check?.(out);
  if (problem) throw new ToxiproxyApiError(400, problem);
  return out;
}

function checkAttribute(spec: AttributeSpec, value: unknown): number {
  const kind = spec.min >= 1 ? 'a positive integer' : 'a non-negative integer';
  const max = spec.max ?? Number.MAX_SAFE_INTEGER;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < spec.min) {
    throw new ToxiproxyApiError(400, `toxic attribute \`${spec.name}\` must be ${kind} (${spec.unit}), got ${JSON.stringify(value)}`);
  }
  if (value > max) {
    throw new ToxiproxyApiError(400, `toxic attribute \`${spec.name}\` must be at most ${max} (${spec.unit}), got ${value}`);
  }
  return value;
}
