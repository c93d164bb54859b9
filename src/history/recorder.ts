/**
 * The recorder: where the runner appends events. Listeners (the history file writer, the live
 * judge, the progress line) only listen and must not change an event: the recorder stamps the
 * emitter's own object with its time and hands that same object to every listener (nothing
 * freezes or copies it).
 *
 *   runner --emit--> Recorder --+--> HistoryWriter (reports/<run>/history.jsonl)
 *                               +--> Judge (checkers fold live)
 *                               +--> progress
 *
 * Batching (`batchMs` > 0): events wait up to `batchMs` (or until `batchEvents` are waiting) and
 * each listener then takes the whole batch in one go, in order. Every listener still sees every
 * event once, in order; it just sees them a little later. The point is CPU: a listener stepped
 * once per socket event finds its tables cold in cache each time, while one stepped over a
 * batch keeps them warm (about an eighth less harness CPU per message, bench/cpu-per-message.ts:
 * median 195 -> 170 us per delivery in its 15 s shape). `flush()` hands over everything
 * waiting; `close()` flushes and makes later events synchronous.
 */
import { performance } from 'node:perf_hooks';
import type { HistoryEvent } from './events.ts';

export type Listener = (e: HistoryEvent) => void;

/** Distributive Omit over the event union (so each member keeps its own fields). */
export type EventInput = HistoryEvent extends infer E ? (E extends HistoryEvent ? Omit<E, 'atMs'> : never) : never;

export interface RecorderOptions {
  /** Hand events to listeners at most this many ms after they happen; 0 (default): at once. */
  batchMs?: number;
  /** ...or as soon as this many events wait (default 1024: a batch blocks the event loop for a few ms at most). */
  batchEvents?: number;
}

export class Recorder {
  /** `performance.now()` at the run origin. */
  readonly origin: number;
  private readonly listeners: Listener[] = [];
  private readonly immediate: Listener[] = [];
  private count = 0;
  private batchMs: number;
  private readonly batchEvents: number;
  private pending: HistoryEvent[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(origin = performance.now(), options: RecorderOptions = {}) {
    this.origin = origin;
    this.batchMs = options.batchMs ?? 0;
    this.batchEvents = options.batchEvents ?? 1024;
    if (!(this.batchMs >= 0)) throw new RangeError(`Recorder batchMs must be a number ≥ 0, got ${this.batchMs}`);
    if (!(this.batchEvents >= 1)) throw new RangeError(`Recorder batchEvents must be ≥ 1, got ${this.batchEvents}`);
  }

  /** Milliseconds since the origin, on the monotonic clock. */
  now(): number {
    return performance.now() - this.origin;
  }

  listen(l: Listener): void {
    this.listeners.push(l);
  }

  /**
   * Hear each event at once, as it is appended, before any batching: for the few runner parts
   * that must react within the event (a replayed reply released by a delivery). Keep them cheap.
   */
  listenNow(l: Listener): void {
    this.immediate.push(l);
  }

  /**
   * Append an event stamped now. The event object itself is stamped (`atMs` set on it) and
   * handed on, not copied: emitters pass a fresh object and let go of it (one copy per event was
   * a measurable share of the harness's CPU per message, bench/cpu-per-message.ts).
   */
  emit(e: EventInput): void {
    (e as HistoryEvent).atMs = Math.round(this.now() * 1000) / 1000;
    this.append(e as HistoryEvent);
  }

  /** Append an event that already has its time. */
  append(e: HistoryEvent): void {
    this.count++;
    for (const l of this.immediate) l(e);
    if (this.batchMs === 0) {
      for (const l of this.listeners) l(e);
      return;
    }
    this.pending.push(e);
    if (this.pending.length >= this.batchEvents) this.flush();
    else this.timer ??= setTimeout(this.flush, this.batchMs);
  }

  /**
   * Hand every waiting event to every listener. A listener that throws misses the rest of the
   * batch; the others still get all of it, then the first error is rethrown.
   */
  flush = (): void => {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    let failed = false;
    let failure: unknown;
    for (const l of this.listeners) {
      try {
        for (let i = 0; i < batch.length; i++) l(batch[i] as HistoryEvent);
      } catch (err) {
        if (!failed) failure = err;
        failed = true;
      }
    }
    if (failed) throw failure;
  };

  /** Flush, and hand later events on at once. */
  close(): void {
    this.batchMs = 0;
    this.flush();
  }

  get events(): number {
    return this.count;
  }
}
