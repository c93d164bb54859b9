/**
 * How late the harness's event loop answers, as a message arriving at a random moment sees it.
 *
 * A frame that reaches the harness while its event loop is busy is timestamped when the loop gets
 * to it, so a delivery's measured delay includes the wait. The probe is a timer due every
 * `resolutionMs`; when it fires `lateMs` late, the loop was blocked for about `lateMs`, and an
 * arrival during that stall waited anything from 0 to `lateMs` (what was left of it). The probe
 * records that spread, about one value per `resolutionMs` of stall:
 *
 *   timer due ──┐   stall of 40 ms   ┌── fires 40 ms late (resolution 10 ms)
 *               └────────────────────┘
 *   recorded:   40, 30, 20, 10 ms       (arrivals early in the stall waited longest)
 *
 * so a rare long stall weighs as much as the share of time it took, unlike Node's
 * `monitorEventLoopDelay`, which records one sample per stall (and drops the stall in progress
 * when reset). The values are delay *beyond* the timer's due time, not including the resolution.
 */
import { performance } from 'node:perf_hooks';

/** Called with each recorded wait, ms. */
export type LoopDelaySink = (waitMs: number) => void;

export class LoopProbe {
  private timer: NodeJS.Timeout | null = null;
  private dueAt = 0;

  /** @param resolutionMs how often the timer is due, ms (default 10). */
  constructor(
    private readonly sink: LoopDelaySink,
    private readonly resolutionMs = 10,
  ) {}

  start(): void {
    if (this.timer) return;
    this.arm();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(): void {
    this.dueAt = performance.now() + this.resolutionMs;
    // One timer for the probe's life, re-armed with refresh(): 100 probes a second.
    if (this.timer) this.timer.refresh();
    else {
      this.timer = setTimeout(this.fire, this.resolutionMs);
      this.timer.unref();
    }
  }

  private readonly fire = (): void => {
    if (!this.timer) return;
    const lateMs = Math.max(0, performance.now() - this.dueAt);
    spreadStall(lateMs, this.resolutionMs, this.sink);
    this.arm();
  };
}

/**
 * The waits that arrivals during a stall of `lateMs` saw: `lateMs` spread evenly over about one
 * value per `resolutionMs` (at least one value, so a punctual timer records its small lateness).
 */
export function spreadStall(lateMs: number, resolutionMs: number, sink: LoopDelaySink): void {
  const n = Math.max(1, Math.round(lateMs / resolutionMs));
  for (let k = n; k >= 1; k--) sink((lateMs * k) / n);
}
