/**
 * An open-model timeline: every action fires at its planned time, whether or not earlier ones
 * were answered. One timer at a time, set for the next due action; everything due fires in order
 * (a long backlog in slices of about 20 ms, yielding to I/O between them).
 *
 * A plan schedules one action per planned send, read and history load, so an action is one small
 * object: a shared `run` and the planned item as its argument, not a closure (and its context)
 * per item. (A run of an evening's traffic schedules millions; each closure would stay on the
 * heap for the whole run, for the garbage collector to walk through again and again.)
 */
import type { Recorder } from '../history/recorder.ts';

/** Longest run of overdue actions before yielding to the event loop, ms. */
const SLICE_MS = 20;

export interface TimedAction {
  /** ms since the timeline's origin. */
  atMs: number;
  run: (intendedMs: number, arg: unknown) => void;
  arg: unknown;
}

/** Stands in for actions that have fired. */
const FIRED: TimedAction = { atMs: 0, run: () => {}, arg: undefined };

export class Timeline {
  private readonly actions: TimedAction[] = [];
  private next = 0;
  private timer: NodeJS.Timeout | null = null;
  private resolveDone: (() => void) | null = null;
  private originMs = 0;
  private immediate: NodeJS.Immediate | null = null;

  constructor(private readonly recorder: Recorder) {}

  /** Run `run(intendedMs, arg)` at `atMs`; pass one shared `run` and the item as `arg` for many items. */
  at<T>(atMs: number, run: (intendedMs: number, arg: T) => void, arg?: T): void {
    this.actions.push({ atMs, run: run as TimedAction['run'], arg });
  }

  /** Start at `originMs` (recorder clock); resolves after the last action or `stop()`. */
  start(originMs: number): Promise<void> {
    this.originMs = originMs;
    this.actions.sort((a, b) => a.atMs - b.atMs);
    return new Promise((resolve) => {
      this.resolveDone = resolve;
      this.pump();
    });
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
    this.next = this.actions.length;
    this.resolveDone?.();
  }

  private pump = (): void => {
    this.timer = null;
    this.immediate = null;
    const now = this.recorder.now();
    let fired = 0;
    while (this.next < this.actions.length) {
      const a = this.actions[this.next] as TimedAction;
      const due = this.originMs + a.atMs;
      if (due > now) {
        this.timer = setTimeout(this.pump, Math.max(0, due - now));
        return;
      }
      // A backlog (the harness fell behind) is worked off in slices, so sockets, acks and the
      // self-monitor still get turns; the monitor can then stop a run the harness cannot carry.
      if (fired++ > 0 && this.recorder.now() - now > SLICE_MS) {
        this.immediate = setImmediate(this.pump);
        return;
      }
      // A fired action is let go (a long run's early actions need not stay on the heap).
      this.actions[this.next++] = FIRED;
      a.run(due, a.arg);
    }
    this.resolveDone?.();
  };
}
