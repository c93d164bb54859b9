import { INTERRUPTED, MAX_TIMER_MS, type Attributes, type StageIo, type Toxic } from './toxic.ts';

/**
 * Simulates "connection reset by peer": when the first chunk (or the end of the stream) reaches
 * the stage, waits `timeout` ms, then resets both sockets (RST, via `socket.resetAndDestroy()`).
 * The chunk that triggered it is dropped, as in Toxiproxy.
 */
export const resetPeer: Toxic = {
  type: 'reset_peer',
  attributes: [{ name: 'timeout', unit: 'ms', min: -MAX_TIMER_MS, max: MAX_TIMER_MS }],
  async pipe(io: StageIo, attrs: Attributes): Promise<void> {
    const item = await io.read();
    if (item === INTERRUPTED || typeof item === 'symbol') return;
    const ms = attrs['timeout'] ?? 0;
    if (ms > 0 && (await io.sleep(ms)) === INTERRUPTED) {
      io.unread(item);
      return;
    }
    io.reset();
  },
};
