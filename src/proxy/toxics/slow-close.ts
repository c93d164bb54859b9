import { INTERRUPTED, MAX_TIMER_MS, type Attributes, type StageIo, type Toxic } from './toxic.ts';

/** Passes data through, but holds the end of the stream (the FIN) back for `delay` ms. */
export const slowClose: Toxic = {
  type: 'slow_close',
  attributes: [{ name: 'delay', unit: 'ms', min: -MAX_TIMER_MS, max: MAX_TIMER_MS }],
  async pipe(io: StageIo, attrs: Attributes): Promise<void> {
    for (;;) {
      const item = await io.read();
      if (item === INTERRUPTED) return;
      if (typeof item === 'symbol') continue;
      if (item.kind === 'data') {
        io.write(item);
        continue;
      }
      if ((await io.sleep(attrs['delay'] ?? 0)) === INTERRUPTED) {
        io.unread(item);
        return;
      }
      return io.end(item);
    }
  },
};
