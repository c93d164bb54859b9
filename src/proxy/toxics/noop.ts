import { INTERRUPTED, type StageIo, type Toxic } from './toxic.ts';

/** Passes everything through unchanged. Also what a stage runs when toxicity says "not this connection". */
export const noop: Toxic = {
  type: 'noop',
  attributes: [],
  async pipe(io: StageIo): Promise<void> {
    for (;;) {
      const item = await io.read();
      if (item === INTERRUPTED) return;
      if (typeof item === 'symbol') continue;
      if (item.kind === 'end') return io.end(item);
      io.write(item);
    }
  },
};
