/**
 * Durations in scenarios and on the command line: a number of milliseconds, or a string with a
 * unit as k6 writes them (`500ms`, `30s`, `2m`, `1h`, `1m30s`, `250us`).
 */

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d+)?)(us|ms|s|m|h)/y;

/** A duration as written by a user. */
export type DurationInput = number | string;

/**
 * Parse a duration to milliseconds. Returns an error message instead of throwing, so callers
 * (the schema, the CLI) can attach the field path.
 */
export function parseDuration(input: DurationInput): { ok: true; ms: number } | { ok: false; message: string } {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) {
      return { ok: false, message: `expected a non-negative number of milliseconds, got ${input}` };
    }
    return { ok: true, ms: input };
  }
  const text = input.trim();
  if (text === '') return { ok: false, message: 'expected a duration such as "30s", got an empty string' };
  let ms = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const at = PART.lastIndex;
    const m = PART.exec(text);
    if (!m) {
      return {
        ok: false,
        message: `expected a duration such as "500ms", "30s", "2m" or "1m30s", got ${JSON.stringify(input)} (bad from column ${at + 1})`,
      };
    }
    ms += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
  }
  return { ok: true, ms };
}

/** Parse or throw a plain Error naming `field`. */
export function durationMs(input: DurationInput, field: string): number {
  const r = parseDuration(input);
  if (!r.ok) throw new Error(`${field}: ${r.message}`);
  return r.ms;
}

/** Format milliseconds for people: `850ms`, `12.3s`, `2m05s`. */
export function formatMs(ms: number): string {
  if (ms < 1) return `${Math.round(ms * 1000)}us`;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return `${m}m${String(s).padStart(2, '0')}s`;
}
