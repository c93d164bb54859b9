import { INTERRUPTED, MAX_TIMER_MS, TIMED_OUT, type Attributes, type CleanupToxic, type StageIo } from './toxic.ts';

/**
 * Stops all data (it is dropped) and closes the connection after `timeout` ms; 0 holds the
 * connection open forever. As in Toxiproxy the timer restarts whenever a chunk arrives (and is
 * dropped), and removing the toxic closes the connection (Toxiproxy's `Cleanup` closes the stub).
 */
export const timeout: CleanupToxic = {
  type: 'timeout',
  attributes: [{ name: 'timeout', unit: 'ms', min: -MAX_TIMER_MS, max: MAX_TIMER_MS }],
  async pipe(io: StageIo, attrs: Attributes): Promise<void> {
    const ms = attrs['timeout'] ?? 0;
    for (;;) {
      const item = await io.read(ms);
      if (item === INTERRUPTED) return;
      if (item === TIMED_OUT) return io.close();
      if (item.kind === 'end') return io.end(item);
      io.drop(item.data.length);
    }
  },
  cleanup(io: StageIo): void {
    io.close();
  },
};
