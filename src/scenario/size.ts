/**
 * Sizes in scenarios: a number of bytes, or a string with a binary unit (`512B`, `30KB`, `2MB`,
 * `1.5MiB`). KB and KiB both mean 1024 bytes, MB and MiB 1024² — chat clients and servers state
 * their limits that way ("64 KB body", "10 MB file").
 */

const UNIT_BYTES: Record<string, number> = { b: 1, kb: 1024, kib: 1024, mb: 1024 ** 2, mib: 1024 ** 2, gb: 1024 ** 3, gib: 1024 ** 3 };
const SIZE = /^(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)$/i;

/** A size as written by a user. */
export type SizeInput = number | string;

/** Parse a size to whole bytes, or say what was expected. */
export function parseSize(input: SizeInput): { ok: true; bytes: number } | { ok: false; message: string } {
  if (typeof input === 'number') {
    if (!Number.isInteger(input) || input < 0) return { ok: false, message: `expected a non-negative whole number of bytes, got ${input}` };
    return { ok: true, bytes: input };
  }
  const m = SIZE.exec(input.trim());
  if (!m) return { ok: false, message: `expected a size such as 512, "30KB", "2MB" or "1.5MiB", got ${JSON.stringify(input)}` };
  return { ok: true, bytes: Math.round(Number(m[1]) * (UNIT_BYTES[(m[2] as string).toLowerCase()] as number)) };
}
