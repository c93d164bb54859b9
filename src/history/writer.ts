import { createWriteStream, type WriteStream } from 'node:fs';
import type { HistoryEvent } from './events.ts';

/**
 * Streams events to a JSON-lines file while the run goes on, flushing at least every
 * `flushMs`, so a crashed run still leaves its evidence on disk.
 */
export class HistoryWriter {
  private readonly out: WriteStream;
  private buffer: string[] = [];
  private readonly timer: NodeJS.Timeout;
  private failed: Error | null = null;

  constructor(readonly path: string, flushMs = 250) {
    this.out = createWriteStream(path, { flags: 'w' });
    this.out.on('error', (err) => {
      this.failed = err;
    });
    this.timer = setInterval(() => this.flush(), flushMs);
    this.timer.unref();
  }

  write = (e: HistoryEvent): void => {
    this.buffer.push(JSON.stringify(e));
    if (this.buffer.length >= 2048) this.flush();
  };

  flush(): void {
    if (this.buffer.length === 0 || this.failed) return;
    this.out.write(this.buffer.join('\n') + '\n');
    this.buffer = [];
  }

  /** Flush and close; rejects if any write failed. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.flush();
    await new Promise<void>((resolve) => this.out.end(resolve));
    if (this.failed) throw this.failed;
  }
}
