import { INTERRUPTED, type Attributes, type StageIo, type Toxic } from './toxic.ts';

/**
 * Limits the stream to `rate` KB/s (1 KB = 1000 bytes, as in Toxiproxy). Big chunks go out in
 * pieces of at most 100 ms worth of data, so the receiver sees a steady trickle; idle time earns
 * no credit. Toxiproxy hangs on `rate: 0` and panics on a negative rate; here both are a 400.
 */
export const bandwidth: Toxic = {
  type: 'bandwidth',
  attributes: [{ name: 'rate', unit: 'KB/s', min: 1 }],
  async pipe(io: StageIo, attrs: Attributes): Promise<void> {
    const bytesPerMs = attrs['rate'] ?? 1; // KB/s == bytes/ms
    const pieceMax = Math.max(1, bytesPerMs * 100);
    let nextFreeMs = 0;
    for (;;) {
      const item = await io.read();
      if (item === INTERRUPTED) return;
      if (typeof item === 'symbol') continue;
      if (item.kind === 'end') return io.end(item);
      let data = item.data;
      while (data.length > 0) {
        const piece = data.length > pieceMax ? data.subarray(0, pieceMax) : data;
        // Continue the schedule from where the previous piece left off (late timers do not add
        // up), but never start before the data arrived (idle time earns no credit).
        const start = Math.max(nextFreeMs, item.ts);
        nextFreeMs = start + piece.length / bytesPerMs;
        const waitMs = nextFreeMs - performance.now();
        if (waitMs >= 1 && (await io.sleep(waitMs)) === INTERRUPTED) {
          io.unread({ kind: 'data', data, ts: item.ts });
          return;
        }
        io.write({ kind: 'data', data: piece, ts: item.ts });
        data = data.subarray(piece.length);
      }
    }
  },
};
