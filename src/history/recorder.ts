/**
 * The recorder: where the runner appends events. Listeners (the history file writer, the live
 * judge, the progress line) only listen; none of them can change an event.
 *
 *   runner --emit--> Recorder --+--> HistoryWriter (reports/<run>/history.jsonl)
 *                               +--> Judge (checkers fold live)
 *                               +--> progress
 */
import { performance } from 'node:perf_hooks';
import type { HistoryEvent } from './events.ts';

export type Listener = (e: HistoryEvent) => void;

/** Distributive Omit over the event union (so each member keeps its own fields). */
export type EventInput = HistoryEvent extends infer E ? (E extends HistoryEvent ? Omit<E, 'atMs'> : never) : never;

export class Recorder {
  /** `performance.now()` at the run origin. */
  readonly origin: number;
  private readonly listeners: Listener[] = [];
  private count = 0;

  constructor(origin = performance.now()) {
    this.origin = origin;
  }

  /** Milliseconds since the origin, on the monotonic clock. */
  now(): number {
    return performance.now() - this.origin;
  }

  listen(l: Listener): void {
    this.listeners.push(l);
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
    for (const l of this.listeners) l(e);
  }

  get events(): number {
    return this.count;
  }
}
