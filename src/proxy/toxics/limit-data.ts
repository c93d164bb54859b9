import { INTERRUPTED, type Attributes, type StageIo, type StatefulToxic } from './toxic.ts';

interface LimitDataState {
  bytesSent: number;
}

/**
 * Lets exactly `bytes` bytes through on the connection (counted across updates of the toxic),
 * then closes it. A chunk that crosses the limit is cut at the limit.
 */
export const limitData: StatefulToxic = {
  type: 'limit_data',
  attributes: [{ name: 'bytes', unit: 'bytes', min: -Number.MAX_SAFE_INTEGER }],
  newState(): LimitDataState {
    return { bytesSent: 0 };
  },
  async pipe(io: StageIo, attrs: Attributes): Promise<void> {
    const state = io.state as LimitDataState;
    const limit = attrs['bytes'] ?? 0;
    for (;;) {
      const item = await io.read();
      if (item === INTERRUPTED) return;
      if (typeof item === 'symbol') continue;
      if (item.kind === 'end') return io.end(item);
      const room = Math.max(0, limit - state.bytesSent);
      if (room < item.data.length) {
        io.drop(item.data.length - room);
        item.data = item.data.subarray(0, room);
      }
      if (item.data.length > 0) {
        io.write(item);
        state.bytesSent += item.data.length;
      }
      if (state.bytesSent >= limit) return io.close();
    }
  },
};
