import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { ChatstormError } from '../errors.ts';
import type { HistoryEvent } from './events.ts';

/** A history file that cannot be read back. */
export class HistoryFileError extends ChatstormError {
  constructor(message: string) {
    super('CHATSTORM_ERR_HISTORY_FILE', message);
  }
}

/**
 * Read a history file event by event. A torn last line (the run crashed mid-write) is skipped;
 * a bad line elsewhere is an error naming the line.
 */
export async function* readHistory(path: string): AsyncGenerator<HistoryEvent> {
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  let n = 0;
  let pendingError: HistoryFileError | null = null;
  for await (const line of lines) {
    n++;
    if (pendingError) throw pendingError;
    if (line.trim() === '') continue;
    try {
      const e = JSON.parse(line) as HistoryEvent;
      if (typeof e !== 'object' || e === null || typeof e.type !== 'string' || typeof e.atMs !== 'number') {
        throw new Error('not an event (needs "type" and "atMs")');
      }
      yield e;
    } catch (err) {
      // Only the last line may be torn; remember and raise if another line follows.
      pendingError = new HistoryFileError(`${path}:${n}: ${(err as Error).message}`);
    }
  }
}
