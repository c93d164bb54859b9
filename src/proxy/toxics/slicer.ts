import { INTERRUPTED, type Attributes, type StageIo, type Toxic } from './toxic.ts';

/**
 * Slices each chunk into pieces of about `average_size` bytes (± `size_variation`), waiting
 * `delay` µs after each piece. Toxiproxy recurses forever on `average_size: 0`; here the range
 * is checked up front (`average_size` ≥ 1, `size_variation` < `average_size`).
 */
export const slicer: Toxic = {
  type: 'slicer',
  attributes: [
    { name: 'average_size', unit: 'bytes', min: 1 },
    { name: 'size_variation', unit: 'bytes', min: 0 },
    { name: 'delay', unit: 'µs', min: 0, max: 2_147_483_647_000 },
  ],
  check(attrs: Attributes): string | undefined {
    const avg = attrs['average_size'] ?? 0;
    const variation = attrs['size_variation'] ?? 0;
    if (variation >= avg) {
      return `toxic attribute \`size_variation\` must be smaller than \`average_size\` (bytes), got ${variation} with average_size ${avg}`;
    }
    return undefined;
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
        io.write({ kind: 'data', data: item.data.subarray(cuts[i - 1], cuts[i]), ts: item.ts });
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
 * Cut points [0, c1, c2, ..., length] splitting `length` bytes into pieces of `avg` ± `variation`
 * by halving, as Toxiproxy does. Requires avg ≥ 1 and variation < avg (checked by the API).
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
