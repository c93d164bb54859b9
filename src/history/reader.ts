import { open } from 'node:fs/promises';
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
  for await (const batch of readHistoryBatches(path)) yield* batch;
}

/**
 * The same events in batches, one per chunk of the file read (1 MiB): what a judge over a whole
 * file wants. One `await` per chunk, not per line: reading and judging a run's history (170,000
 * lines in bench/cpu-per-message.ts's shape) took 950–980 ms of CPU through `node:readline` with
 * an await per event, 710–760 ms in batches (docs/performance.md, "Session 7").
 */
export async function* readHistoryBatches(path: string): AsyncGenerator<HistoryEvent[]> {
  const file = await open(path, 'r').catch((err: NodeJS.ErrnoException) => {
    throw new HistoryFileError(`${path}: cannot open the history file (${err.code ?? err.message})`);
  });
  try {
    // A device (a history.jsonl symlinked to /dev/zero or /dev/full) never ends: reading it
    // would hang; a folder cannot be read. A FIFO ends when its writer closes, so it is let through.
    const st = await file.stat();
    if (!st.isFile() && !st.isFIFO()) {
      const what = st.isDirectory() ? 'a folder' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : 'not a regular file';
      throw new HistoryFileError(`${path} is ${what}, not a history file; pass a run folder whose history.jsonl is the file the run wrote`);
    }
    yield* readBatches(path, file.createReadStream({ encoding: 'utf8', highWaterMark: 1 << 20, autoClose: false }));
  } finally {
    await file.close();
  }
}

/**
 * Hand every event of a history file to `step`, in order, batch by batch: how a judge (the run's
 * `--judge after`, `chatstorm check`, the benches that measure it) goes over a whole file.
 */
export async function forEachHistoryEvent(path: string, step: (e: HistoryEvent) => void): Promise<void> {
  for await (const batch of readHistoryBatches(path)) for (const e of batch) step(e);
}

async function* readBatches(path: string, stream: AsyncIterable<string>): AsyncGenerator<HistoryEvent[]> {
  let n = 0;
  let pendingError: HistoryFileError | null = null;
  const parse = (line: string, out: HistoryEvent[]): void => {
    n++;
    if (pendingError) throw pendingError;
    if (line.trim() === '') return;
    try {
      const e = JSON.parse(line) as HistoryEvent;
      if (typeof e !== 'object' || e === null || typeof e.type !== 'string' || typeof e.atMs !== 'number') {
        throw new Error('not an event (needs "type" and "atMs")');
      }
      out.push(e);
    } catch (err) {
      // Only the last line may be torn; remember and raise if another line follows.
      pendingError = new HistoryFileError(`${path}:${n}: ${(err as Error).message}`);
    }
  };
  let rest = '';
  for await (const chunk of stream) {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop()!;
    const out: HistoryEvent[] = [];
    for (const line of lines) parse(line, out);
    if (out.length > 0) yield out;
  }
  if (rest !== '') {
    const out: HistoryEvent[] = [];
    parse(rest, out);
    if (out.length > 0) yield out;
  }
}
