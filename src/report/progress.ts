/**
 * The live progress line. The runner ticks about once a second with its counters; this module
 * adds what the history and the live judge know (total run time, active faults, p99 so far,
 * anomalies so far), turns counters into rates, and prints:
 *
 *   runner tick ──> LiveProgressTracker.tick ──> LiveProgress ──> progressPrinter
 *   history  ────> LiveProgressTracker.step       (listener)        TTY: one line rewritten in place
 *                                                                    no TTY: a plain line every 10 s
 *
 * `--quiet` prints nothing. Measurement stays apart from presentation: the tracker only counts,
 * the printer only formats.
 */
import type { HistoryEvent } from '../history/events.ts';
import type { Progress } from '../run/runner.ts';
import { formatMs } from './units.ts';

/** A runner tick with the live figures added. */
export interface LiveProgress extends Progress {
  /** Planned run time: set-up, send window and grace (ms); null until play starts (set-up time is not planned). */
  totalMs: number | null;
  /** First sends per second since the previous tick. */
  sentPerS: number;
  /** Deliveries per second since the previous tick. */
  deliveredPerS: number;
  /** Sent, neither acknowledged nor finally rejected yet. */
  inFlight: number;
  /** Delivery delay p99 so far (ms, from the intended send time); null before the first delivery. */
  deliveryP99Ms: number | null;
  /** Anomalies so far by check (checks judged per event); null when the run judges after it ends (`--judge after`). */
  anomalies: Record<string, number> | null;
  /** Faults of the timeline active now. */
  activeFaults: number;
}

/** What the live judge can tell (see live-judge.ts). */
export interface LiveJudgeView {
  anomalies(): Record<string, number>;
  deliveryP99Ms(): number | null;
}

/** Folds the history for the progress line and turns runner ticks into {@link LiveProgress}. */
export class LiveProgressTracker {
  private plannedMs: number | null = null;
  /** performance.now() when play started, until the next tick converts it to run time. */
  private playAt: number | null = null;
  private playStartMs: number | null = null;
  private finalNacks = 0;
  private readonly faults = new Set<string>();
  private last: { elapsedMs: number; sent: number; delivered: number } | null = null;

  /** @param judge the live judge's view; null when the run is judged after it ends. */
  constructor(private readonly judge: LiveJudgeView | null) {}

  /** History listener. */
  step = (e: HistoryEvent): void => {
    if (e.type === 'run-start') this.plannedMs = e.sendWindowMs + e.graceMs;
    else if (e.type === 'nack' && e.final) this.finalNacks++;
    else if (e.type === 'fault') {
      if (e.phase === 'start') this.faults.add(e.fault);
      else this.faults.delete(e.fault);
    }
  };

  /** The plan starts playing now (the runner's `onPlay`): the total becomes known. */
  markPlay(nowMs = performance.now()): void {
    this.playAt = nowMs;
  }

  /** One runner tick, with rates since the previous one. */
  tick(p: Progress, nowMs = performance.now()): LiveProgress {
    // The tick's elapsed time is the run clock now, so play began (now - playAt) before it.
    if (this.playAt !== null && this.playStartMs === null) this.playStartMs = p.elapsedMs - (nowMs - this.playAt);
    const prev = this.last;
    const dtS = prev === null ? 0 : (p.elapsedMs - prev.elapsedMs) / 1000;
    const rate = (now: number, before: number) => (dtS > 0 ? Math.max(0, now - before) / dtS : 0);
    this.last = { elapsedMs: p.elapsedMs, sent: p.sent, delivered: p.delivered };
    return {
      ...p,
      totalMs: this.playStartMs === null || this.plannedMs === null ? null : this.playStartMs + this.plannedMs,
      sentPerS: prev === null ? 0 : rate(p.sent, prev.sent),
      deliveredPerS: prev === null ? 0 : rate(p.delivered, prev.delivered),
      inFlight: Math.max(0, p.sent - p.acked - this.finalNacks),
      deliveryP99Ms: this.judge === null ? null : this.judge.deliveryP99Ms(),
      anomalies: this.judge === null ? null : this.judge.anomalies(),
      activeFaults: this.faults.size,
    };
  }
}

const secs = (ms: number) => `${Math.floor(ms / 1000)}s`;

/**
 * The progress line, e.g. `[  12s/40s play  ] devices 30/30  sent 12.0/s  delivered 36.0/s  in flight 3  p99 439ms  anomalies 0  faults 1`;
 * a run judged after it ends says so in place of p99 and anomalies (it has neither yet).
 */
export function formatProgress(p: LiveProgress): string {
  const total = p.totalMs === null ? '' : `/${secs(p.totalMs)}`;
  let judged = 'judged after the run  ';
  if (p.anomalies !== null) {
    const found = Object.entries(p.anomalies).filter(([, n]) => n > 0);
    const anomalies = found.reduce((sum, [, n]) => sum + n, 0);
    judged =
      `p99 ${p.deliveryP99Ms === null ? '-' : formatMs(p.deliveryP99Ms)}  ` +
      `anomalies ${anomalies}${found.length ? ` (${found.map(([c, n]) => `${c} ${n}`).join(', ')})` : ''}  `;
  }
  return (
    `[${(secs(p.elapsedMs) + total).padStart(9)} ${p.phase.padEnd(7)}] ` +
    `devices ${p.live}/${p.devices}  ` +
    `sent ${p.sentPerS.toFixed(1)}/s  delivered ${p.deliveredPerS.toFixed(1)}/s  ` +
    `in flight ${p.inFlight}  ` +
    judged +
    `faults ${p.activeFaults}`
  );
}

/** Options of {@link progressPrinter}. */
export interface ProgressPrinterOptions {
  /** Where lines go (default: stderr). */
  write?: (s: string) => void;
  /** Rewrite one line in place (default: whether stderr is a terminal). */
  tty?: boolean;
  /** Without a TTY, print a line every this many ms of run time (default 10 s). */
  plainEveryMs?: number;
}

/**
 * A progress callback for {@link LiveProgress} ticks: on a terminal one line refreshed in place
 * (call `done()` at the end to move past it); otherwise a plain line every `plainEveryMs` of run
 * time, so CI logs get a heartbeat without a flood.
 */
export function progressPrinter(o: ProgressPrinterOptions = {}): { onProgress: (p: LiveProgress) => void; done: () => void } {
  const write = o.write ?? ((s: string) => void process.stderr.write(s));
  const tty = o.tty ?? process.stderr.isTTY === true;
  const every = o.plainEveryMs ?? 10_000;
  let nextPlainMs = every;
  let phase: LiveProgress['phase'] | null = null;
  let drawn = false;
  return {
    onProgress: (p) => {
      if (tty) {
        write(`\r${formatProgress(p)}\x1b[K`);
        drawn = true;
      } else if (p.elapsedMs >= nextPlainMs || p.phase !== phase) {
        // Catch up by whole periods, so a stalled tick does not bunch lines together; the first
        // tick and each new phase get their line at once (a log shows when play and drain began).
        while (nextPlainMs <= p.elapsedMs) nextPlainMs += every;
        write(formatProgress(p) + '\n');
      }
      phase = p.phase;
    },
    done: () => {
      if (drawn) write('\n');
      drawn = false;
    },
  };
}
