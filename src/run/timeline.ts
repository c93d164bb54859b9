/**
 * An open-model timeline: every action fires at its planned time, whether or not earlier ones
 * were answered. One timer at a time, set for the next due action; everything due fires in order.
 */
import type { Recorder } from '../history/recorder.ts';

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
    this.timer = null;
    this.next = this.actions.length;
    this.resolveDone?.();
  }

  private pump = (): void => {
    this.timer = null;
    const now = this.recorder.now();
    while (this.next < this.actions.length) {
      const a = this.actions[this.next] as TimedAction;
      const due = this.originMs + a.atMs;
      if (due > now) {
        this.timer = setTimeout(this.pump, Math.max(0, due - now));
        return;
      }
      this.next++;
      a.run(due);
    }
    this.resolveDone?.();
  };
}
