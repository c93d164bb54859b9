/**
 * The harness watches itself: event-loop delay and sender lag (actual minus intended send time).
 * When either stays above its limit for `strikes` consecutive windows the harness is the
 * bottleneck, and the run must end with exit 3 instead of blaming the server.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Recorder } from '../history/recorder.ts';
import { LatencyHistogram, type LatencyHistogramOptions } from '../stats/hdr.ts';

/**
 * Sender-lag histogram bounds: 10 us to 1 h, 3 digits. A lag is judged against limits of hundreds
 * of ms, so this is far finer than needed and still small enough to reset once a window.
 */
const LAG_HISTOGRAM: LatencyHistogramOptions = { lowestUs: 10, highestUs: 3_600_000_000, digits: 3 };

export interface SelfMonitorOptions {
  /** Event-loop delay p99 limit per window, default 250 ms. */
  maxEventLoopMs?: number;
  /** Sender lag p99 limit per window, default 1000 ms. */
  maxSenderLagMs?: number;
  windowMs?: number;
  /** Consecutive bad windows before declaring overload, default 3. */
  strikes?: number;
}

export interface SelfReport {
  worstEventLoopP99Ms: number;
  worstSenderLagP99Ms: number;
  senderLagMaxMs: number;
  overloaded: string | null;
}

export class SelfMonitor {
  private readonly loop: IntervalHistogram;
  /** Sender lags of the current window: recording is O(1) and allocates nothing on the send path. */
  private readonly lags = new LatencyHistogram(LAG_HISTOGRAM);
  /** Exact largest lag of the window: HDR answers a bucket's upper edge, the p99 never exceeds this. */
  private windowMaxMs = 0;
  private timer: NodeJS.Timeout | null = null;
  private bad = 0;
  private readonly report: SelfReport = { worstEventLoopP99Ms: 0, worstSenderLagP99Ms: 0, senderLagMaxMs: 0, overloaded: null };
  private readonly maxLoop: number;
  private readonly maxLag: number;
  private readonly strikes: number;
  private readonly windowMs: number;

  constructor(
    private readonly recorder: Recorder,
    private readonly onOverload: (why: string) => void,
    opts: SelfMonitorOptions = {},
  ) {
    this.maxLoop = opts.maxEventLoopMs ?? 250;
    this.maxLag = opts.maxSenderLagMs ?? 1000;
    this.strikes = opts.strikes ?? 3;
    this.windowMs = opts.windowMs ?? 1000;
    this.loop = monitorEventLoopDelay({ resolution: 10 });
  }

  /** Record one send's lag (actual − intended, ms). Cheap: called on the send path. */
  senderLag(ms: number): void {
    this.lags.recordMs(ms);
    if (ms > this.windowMaxMs) this.windowMaxMs = ms;
    if (ms > this.report.senderLagMaxMs) this.report.senderLagMaxMs = ms;
  }

  start(): void {
    this.loop.enable();
    this.timer = setInterval(() => this.tick(), this.windowMs);
    this.timer.unref();
  }

  stop(): SelfReport {
    if (this.timer) clearInterval(this.timer);
    this.loop.disable();
    return { ...this.report };
  }

  private tick(): void {
    const loopP99 = this.loop.percentile(99) / 1e6;
    this.loop.reset();
    let lagP99 = 0;
    if (this.lags.count > 0) {
      lagP99 = Math.min(this.lags.percentileMs(99), this.windowMaxMs);
      this.windowMaxMs = 0;
      this.lags.reset();
    }
    this.report.worstEventLoopP99Ms = Math.max(this.report.worstEventLoopP99Ms, loopP99);
    this.report.worstSenderLagP99Ms = Math.max(this.report.worstSenderLagP99Ms, lagP99);
    this.recorder.emit({ type: 'lag', eventLoopP99Ms: round(loopP99), senderLagP99Ms: round(lagP99) });
    if (loopP99 > this.maxLoop || lagP99 > this.maxLag) this.bad++;
    else this.bad = 0;
    if (this.bad >= this.strikes && this.report.overloaded === null) {
      this.report.overloaded =
        `the harness was the bottleneck for ${round((this.bad * this.windowMs) / 1000)} s: event-loop delay p99 ${round(loopP99)} ms (limit ${this.maxLoop}), ` +
        `sender lag p99 ${round(lagP99)} ms (limit ${this.maxLag}). Lower the load, use fewer devices per process, or raise --max-lag.`;
      this.onOverload(this.report.overloaded);
    }
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
