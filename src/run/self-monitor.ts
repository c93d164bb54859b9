/**
 * The harness watches itself: event-loop delay and sender lag (actual minus intended send time).
 *
 *   sends ── senderLag(ms) ──┬──> window histogram ──> `lag` event each window; overload after
 *   LoopProbe ── wait(ms) ───┘                          `strikes` bad windows in a row (exit 3)
 *                            └──> run histograms (from `measure()` to `stop()`) ──> SelfReport.lag
 *                                                       ──> the gate's harness-lag rule (gate.ts)
 *
 * The windows stop a run the harness plainly cannot carry, early. The run histograms say how much
 * of the delays the run reports is the harness's own lateness: the gate compares them with the
 * delays measured and ends the run `error` when that share is material.
 */
import type { Recorder } from '../history/recorder.ts';
import { LatencyHistogram, type LatencyHistogramOptions, type LatencySummary } from '../stats/hdr.ts';
import { LoopProbe } from './loop-probe.ts';
import { cpuWaitBetween, mainThreadCpu, type CpuWaitFigures, type ThreadCpuTimes } from './cpu-wait.ts';

/**
 * Lag histogram bounds: 1 us to 1 h, 3 digits (0.1 % relative error): the run-level figures are
 * compared with delivery delays of a few milliseconds, so they need the same precision.
 */
const LAG_HISTOGRAM: LatencyHistogramOptions = { lowestUs: 1, highestUs: 3_600_000_000, digits: 3 };

export interface SelfMonitorOptions {
  /** Event-loop delay p99 limit per window, default 250 ms. */
  maxEventLoopMs?: number;
  /** Sender lag p99 limit per window, default 1000 ms. */
  maxSenderLagMs?: number;
  windowMs?: number;
  /** Consecutive bad windows before declaring overload, default 3. */
  strikes?: number;
  /** How often the event-loop probe is due, ms (default 10). */
  probeMs?: number;
}

/** The harness's lateness over the measured part of a run (play and drain). */
export interface HarnessLagFigures {
  /** Actual − intended send time of every planned send. */
  senderLag: LatencySummary;
  /**
   * How long a message arriving at a random moment waited for the event loop (see LoopProbe):
   * the delay added to the timestamp of a delivery.
   */
  eventLoopDelay: LatencySummary;
  /**
   * Harness lag: what the harness added to one delivery, a late send plus a wait for the loop on
   * arrival: the distribution of senderLag + eventLoopDelay, the two taken as independent (a
   * send and its delivery happen at different moments). See {@link combineLags}.
   */
  combined: LatencySummary;
  /**
   * The main thread over the same span: wall time, time on a CPU and time runnable but waiting
   * for one (src/run/cpu-wait.ts); null where it cannot be read (not Linux). Absent in summaries
   * written before it existed.
   */
  cpu?: CpuWaitFigures | null;
}

export interface SelfReport {
  worstEventLoopP99Ms: number;
  worstSenderLagP99Ms: number;
  senderLagMaxMs: number;
  overloaded: string | null;
  /** Run-level lag from the start of play to the end of drain; null when play never started. */
  lag?: HarnessLagFigures | null;
}

export class SelfMonitor {
  private readonly probe: LoopProbe;
  /** Sender lags of the current window: recording is O(1) and allocates nothing on the send path. */
  private readonly lags = new LatencyHistogram(LAG_HISTOGRAM);
  private readonly loop = new LatencyHistogram(LAG_HISTOGRAM);
  /** Run-level histograms, recorded once `measure()` was called. */
  private runLags: LatencyHistogram | null = null;
  private runLoop: LatencyHistogram | null = null;
  /** The main thread's CPU times and the clock when `measure()` was called. */
  private cpuFrom: { times: ThreadCpuTimes | null; atMs: number } | null = null;
  /** Exact largest lag of the window: HDR answers a bucket's upper edge, the p99 never exceeds this. */
  private windowMaxMs = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped: SelfReport | null = null;
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
    this.probe = new LoopProbe((waitMs) => {
      this.loop.recordMs(waitMs);
      this.runLoop?.recordMs(waitMs);
    }, opts.probeMs ?? 10);
  }

  /** Record one send's lag (actual − intended, ms). Cheap: called on the send path. */
  senderLag(ms: number): void {
    if (this.stopped) return;
    this.lags.recordMs(ms);
    this.runLags?.recordMs(ms);
    if (ms > this.windowMaxMs) this.windowMaxMs = ms;
    if (ms > this.report.senderLagMaxMs) this.report.senderLagMaxMs = ms;
  }

  start(): void {
    if (this.timer || this.stopped) return;
    this.probe.start();
    this.timer = setInterval(() => this.tick(), this.windowMs);
    this.timer.unref();
  }

  /**
   * Start the run-level histograms: from here on, every send and every probe counts. Called when
   * play starts, so the connect storm of set-up (which times no message) does not count.
   */
  measure(): void {
    if (this.stopped || this.runLags) return;
    this.runLags = new LatencyHistogram(LAG_HISTOGRAM);
    this.runLoop = new LatencyHistogram(LAG_HISTOGRAM);
    this.cpuFrom = { times: mainThreadCpu(), atMs: performance.now() };
  }

  /**
   * Stop watching; idempotent. After this no `lag` event is emitted, so the runner stops the
   * monitor before it records `run-end` (nothing may follow the last event of a history).
   */
  stop(): SelfReport {
    if (this.stopped) return { ...this.stopped };
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.probe.stop();
    this.report.lag =
      this.runLags && this.runLoop
        ? {
            senderLag: this.runLags.summary(),
            eventLoopDelay: this.runLoop.summary(),
            combined: combineLags(this.runLags, this.runLoop).summary(),
            cpu: this.cpuFrom && cpuWaitBetween(this.cpuFrom.times, mainThreadCpu(), performance.now() - this.cpuFrom.atMs),
          }
        : null;
    this.stopped = { ...this.report };
    return { ...this.stopped };
  }

  private tick(): void {
    const loopP99 = this.loop.percentileMs(99);
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

/** Quantile points per histogram in {@link combineLags}: 400² sums, a few ms once per run. */
const COMBINE_POINTS = 400;

/**
 * The distribution of a + b for independent a and b, from their histograms: each is cut into
 * {@link COMBINE_POINTS} equally likely quantiles and every pair is summed. An empty histogram
 * counts as always 0 (a run with no sends still waits for its loop).
 */
export function combineLags(a: LatencyHistogram, b: LatencyHistogram, points = COMBINE_POINTS): LatencyHistogram {
  const quantiles = (h: LatencyHistogram): number[] =>
    h.count === 0 ? [0] : Array.from({ length: points }, (_, i) => h.percentileMs(((i + 0.5) / points) * 100));
  const qa = quantiles(a);
  const qb = quantiles(b);
  const out = new LatencyHistogram(LAG_HISTOGRAM);
  for (const x of qa) for (const y of qb) out.recordMs(x + y);
  return out;
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
