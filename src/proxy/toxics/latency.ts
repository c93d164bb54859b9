import { INTERRUPTED, MAX_TIMER_MS, type Attributes, type StageIo, type Toxic } from './toxic.ts';

/**
 * Delays every chunk by `latency` ms ± `jitter` ms (uniform in [latency - jitter, latency + jitter),
 * drawn per chunk, as Toxiproxy does). Chunks leave in order: a chunk never overtakes the one before.
 * The delay is measured from the chunk's `ts`, so time spent queued counts, and stacked latency
 * toxics add up (each stage advances `ts` to the chunk's planned departure).
 */
export const latency: Toxic = {
  type: 'latency',
  attributes: [
    { name: 'latency', unit: 'ms', min: -MAX_TIMER_MS, max: MAX_TIMER_MS },
    { name: 'jitter', unit: 'ms', min: -MAX_TIMER_MS, max: MAX_TIMER_MS },
  ],
  async pipe(io: StageIo, attrs: Attributes): Promise<void> {
    const base = attrs['latency'] ?? 0;
    const jitter = attrs['jitter'] ?? 0;
    for (;;) {
      const item = await io.read();
      if (item === INTERRUPTED) return;
      if (typeof item === 'symbol') continue;
      if (item.kind === 'end') return io.end(item);
      const delayMs = jitter > 0 ? base + Math.floor(Math.random() * 2 * jitter) - jitter : base;
      const now = performance.now();
      const waitMs = item.ts + delayMs - now;
      if (waitMs > 0) {
        if ((await io.sleep(waitMs)) === INTERRUPTED) {
          io.unread(item); // re-timed by whatever runs next (or flushed on removal)
          return;
        }
        item.ts += delayMs;
      } else {
        item.ts = now;
      }
      io.write(item);
    }
  },
};
