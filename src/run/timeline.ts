/**
 * An open-model timeline: every action fires at its planned time, whether or not earlier ones
 * were answered. One timer at a time, set for the next due action; everything due fires in order
 * (a long backlog in slices of about 20 ms, yielding to I/O between them).
 */
import type { Recorder } from '../history/recorder.ts';

/** Longest run of overdue actions before yielding to the event loop, ms. */
const SLICE_MS = 20;

export interface TimedAction {
  /** ms since the timeline's origin. */
  atMs: number;
  run: (intendedMs: number) => void;
}

export class Timeline {
  private readonly actions: TimedAction[] = [];
  private next = 0;
  private timer: NodeJS.Timeout | null = null;
  private resolveDone: (() => void) | null = null;
  private originMs = 0;
  private immediate: NodeJS.Immediate | null = null;

  constructor(private readonly recorder: Recorder) {}

  at(atMs: number, run: (intendedMs: number) => void): void {
    this.actions.push({ atMs, run });
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
      this.next++;
      a.run(due);
    }
    this.resolveDone?.();
  };
}
