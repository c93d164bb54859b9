import { INTERRUPTED, type Attributes, type StageIo, type Toxic } from './toxic.ts';

/**
 * Slices each chunk into pieces of about `average_size` bytes (± `size_variation`), waiting
 * `delay` µs after each piece, by Toxiproxy's halving. Every setting Toxiproxy survives is
 * accepted, with its effect (a piece may be empty: nothing is written, the delay still runs).
 * Refused are the two it does not survive, see {@link slicerProblem}.
 */
export const slicer: Toxic = {
  type: 'slicer',
  attributes: [
    { name: 'average_size', unit: 'bytes', min: -Number.MAX_SAFE_INTEGER },
    { name: 'size_variation', unit: 'bytes', min: -Number.MAX_SAFE_INTEGER },
    { name: 'delay', unit: 'µs', min: -2_147_483_647_000, max: 2_147_483_647_000 },
  ],
  check(attrs: Attributes): string | undefined {
    return slicerProblem(attrs['average_size'] ?? 0, attrs['size_variation'] ?? 0);
  },
  async pipe(io: StageIo, attrs: Attributes): Promise<void> {
    const avg = attrs['average_size'] ?? 1;
    const variation = attrs['size_variation'] ?? 0;
    const delayMs = (attrs['delay'] ?? 0) / 1000;
    let dueMs = performance.now();
    for (;;) {
      const item = await io.read();
      if (item === INTERRUPTED) return;
      if (typeof item === 'symbol') continue;
      if (item.kind === 'end') return io.end(item);
      const cuts = sliceBounds(item.data.length, avg, variation);
      for (let i = 1; i < cuts.length; i++) {
        const piece = item.data.subarray(cuts[i - 1], cuts[i]);
        if (piece.length > 0) io.write({ kind: 'data', data: piece, ts: item.ts });
        if (delayMs <= 0) continue;
        // Timers are ms-grained: owe sub-ms delays and sleep once they add up to ≥ 1 ms.
        dueMs = Math.max(dueMs, performance.now() - delayMs) + delayMs;
        const waitMs = dueMs - performance.now();
        if (waitMs >= 1 && i < cuts.length - 1 && (await io.sleep(waitMs)) === INTERRUPTED) {
          io.unread({ kind: 'data', data: item.data.subarray(cuts[i]), ts: item.ts });
          return;
        }
      }
    }
  },
};

/**
 * Why Toxiproxy 2.12 would not survive these slicer settings, or undefined when it does. Its
 * `chunk()` splits a piece of s bytes while s − avg > variation, at s/2 plus a random offset in
 * [−variation, variation):
 *  - variation ≤ 0 (no offset): pieces halve down to 1 byte; if 1 − avg > variation a 1-byte piece
 *    splits into 0 + 1 forever (stack overflow, the process dies). Safe iff avg + variation ≥ 1.
 *  - variation > 0: a split happens only for s ≥ avg + variation + 1; with variation ≤ avg + 1 both
 *    halves stay within 0..s (and shrink with probability > 0), so it ends. With variation ≥
 *    avg + 2 an offset can cut a negative-sized piece, and slicing the chunk with it panics the
 *    whole process ("slice bounds out of range").
 */
export function slicerProblem(avg: number, variation: number): string | undefined {
  if (variation <= 0 && avg + variation < 1) {
    return `toxic attribute \`average_size\` + \`size_variation\` must be at least 1 (bytes), got ${avg} + ${variation}; Toxiproxy recurses forever on these and dies`;
  }
  if (variation > 0 && variation > avg + 1) {
    return `toxic attribute \`size_variation\` must be at most \`average_size\` + 1 (bytes), got ${variation} with average_size ${avg}; larger variations can cut a piece of negative size, which panics Toxiproxy`;
  }
  return undefined;
}

/**
 * Cut points [0, c1, c2, ..., length] splitting `length` bytes into pieces of `avg` ± `variation`
 * by halving, as Toxiproxy does; consecutive cuts may be equal (an empty piece). Requires
 * settings {@link slicerProblem} accepts, or it may not end.
 */
export function sliceBounds(length: number, avg: number, variation: number): number[] {
  const cuts = [0];
  const split = (start: number, end: number): void => {
    if (end - start - avg <= variation) {
      cuts.push(end);
      return;
    }
    let mid = start + Math.floor((end - start) / 2);
    if (variation > 0) mid += Math.floor(Math.random() * 2 * variation) - variation;
    split(start, mid);
    split(mid, end);
  };
  if (length > 0) split(0, length);
  return cuts;
}
