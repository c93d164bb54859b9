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
 * each listener then takes the batch, in order (in time slices, below). Every listener still sees every
 * event once, in order; it just sees them a little later. The point is CPU: a listener stepped
 * once per socket event finds its tables cold in cache each time, while one stepped over a
 * batch keeps them warm (about an eighth less harness CPU per message, bench/cpu-per-message.ts:
 * median 195 -> 170 us per delivery in its 15 s shape). `flush()` hands over everything
 * waiting; `close()` flushes and makes later events synchronous.
 *
 * Time slices: a batch is handed over in slices of {@link SLICE_EVENTS} events (every listener
 * takes a slice before the next slice starts, so each still sees the events in order), and after
 * about `sliceMs` of listener work the recorder yields to the event loop (`setImmediate`) and
 * goes on from there. A frame that arrives meanwhile is timestamped when the loop gets to it, so
 * one long hand-over (1,024 events through the judge: 4 ms typical, 12–33 ms at its worst, the
 * largest single source of the harness's event-loop stalls above 5 ms during play at 1,000 and
 * 2,000 msg/s) went into the delays the run reports (docs/performance.md, "Stalls"). Measured
 * gain, bench/honesty-ladder.ts, 6 pairs against the unsliced hand-over: run-level harness lag
 * p99 median 8.01 -> 4.95 ms at 1,966 msg/s and 5.61 -> 4.71 ms at 976; the highest rung carried
 * honestly at most 480 msg/s before, 1,966 in 3 of 6 passes after. `flush()` and `close()` still
 * hand everything over at once.
 */
import { performance } from 'node:perf_hooks';
import type { HistoryEvent } from './events.ts';

export type Listener = (e: HistoryEvent) => void;

/** Distributive Omit over the event union (so each member keeps its own fields). */
export type EventInput = HistoryEvent extends infer E ? (E extends HistoryEvent ? Omit<E, 'atMs'> : never) : never;

export interface RecorderOptions {
  /** Hand events to listeners at most this many ms after they happen; 0 (default): at once. */
  batchMs?: number;
  /** ...or as soon as this many events wait (default 1024), on the next turn of the event loop. */
  batchEvents?: number;
  /** Yield to the event loop after about this much listener work, ms (default 2). */
  sliceMs?: number;
}

/** Events every listener takes before the recorder looks at the clock (about 0.5 ms of work). */
export const SLICE_EVENTS = 128;

export class Recorder {
  /** `performance.now()` at the run origin. */
  readonly origin: number;
  private readonly listeners: Listener[] = [];
  private readonly immediate: Listener[] = [];
  private count = 0;
  private batchMs: number;
  private readonly batchEvents: number;
  private readonly sliceMs: number;
  private pending: HistoryEvent[] = [];
  /** Index in `pending` of the first event not yet handed over. */
  private next = 0;
  /** Listeners that threw during the current batch: they miss the rest of it. */
  private failed: Set<Listener> | null = null;
  private failure: unknown = undefined;
  private timer: NodeJS.Timeout | null = null;
  private immediateHandle: NodeJS.Immediate | null = null;

  constructor(origin = performance.now(), options: RecorderOptions = {}) {
    this.origin = origin;
    this.batchMs = options.batchMs ?? 0;
    this.batchEvents = options.batchEvents ?? 1024;
    this.sliceMs = options.sliceMs ?? 2;
    if (!(this.batchMs >= 0)) throw new RangeError(`Recorder batchMs must be a number ≥ 0, got ${this.batchMs}`);
    if (!(this.batchEvents >= 1)) throw new RangeError(`Recorder batchEvents must be ≥ 1, got ${this.batchEvents}`);
    if (!(this.sliceMs >= 0)) throw new RangeError(`Recorder sliceMs must be a number ≥ 0, got ${this.sliceMs}`);
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
    if (this.pending.length - this.next >= this.batchEvents) this.immediateHandle ??= setImmediate(this.drain);
    else this.timer ??= setTimeout(this.drain, this.batchMs);
  }

  /** Hand every waiting event to every listener, now, in one go; rethrows a listener's error. */
  flush = (): void => {
    this.handOver(Infinity);
  };

  /** The scheduled hand-over: in slices, yielding after about `sliceMs`. */
  private readonly drain = (): void => {
    this.handOver(performance.now() + this.sliceMs);
  };

  /**
   * Hand waiting events over until none wait or the clock passes `untilMs` (then the rest is
   * scheduled with `setImmediate`). A listener that throws misses the rest of the batch; the
   * others still get all of it, then the first error is rethrown once the batch is over.
   */
  private handOver(untilMs: number): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.immediateHandle !== null) {
      clearImmediate(this.immediateHandle);
      this.immediateHandle = null;
    }
    const batch = this.pending;
    while (this.next < batch.length) {
      const from = this.next;
      const to = Math.min(batch.length, from + SLICE_EVENTS);
      // Advanced before the listeners run: a listener that emits appends behind `to`.
      this.next = to;
      for (const l of this.listeners) {
        if (this.failed?.has(l)) continue;
        try {
          for (let i = from; i < to; i++) l(batch[i] as HistoryEvent);
        } catch (err) {
          if (this.failed === null) {
            this.failed = new Set();
            this.failure = err;
          }
          this.failed.add(l);
        }
      }
      if (this.next < batch.length && performance.now() >= untilMs) {
        // Keep only what waits, so a drain that never catches up does not hold every event.
        this.pending = batch.slice(this.next);
        this.next = 0;
        this.immediateHandle = setImmediate(this.drain);
        return;
      }
    }
    this.pending = [];
    this.next = 0;
    if (this.failed !== null) {
      const failure = this.failure;
      this.failed = null;
      this.failure = undefined;
      throw failure;
    }
  }

  /** Flush, and hand later events on at once. */
  close(): void {
    this.batchMs = 0;
    this.flush();
  }

  get events(): number {
    return this.count;
  }
}
