/**
 * The judge: every check and the delay metrics over one shared ledger, so each event is indexed
 * once. `judgeAll` folds a whole saved history.
 *
 *   event ──> ledger.step ──note──> delay, loss, duplicates, ordering, sync, history, isolation, integrity
 *                                      (each: step(event, note))                 │
 *                                                            result() ──────────┴──> Verdict { checks, metrics }
 */
import type { HistoryEvent } from '../history/events.ts';
import { DelayMetrics } from './delay.ts';
import { ConnectionAttempts } from './connection-attempts.ts';
import { DuplicatesChecker } from './duplicates.ts';
import { Ledger, type LedgerOptions } from './ledger.ts';
import { LossChecker } from './loss.ts';
import { OrderingChecker } from './ordering.ts';
import { HistoryChecker } from './history.ts';
import { IntegrityChecker } from './integrity.ts';
import { IsolationChecker } from './isolation.ts';
import { SyncChecker, type SyncOptions } from './sync.ts';
import type { CheckResult, Checker, Judge, LatencySummary, Verdict } from './types.ts';
import type { LatencyHistogram } from '../stats/hdr.ts';

/** Options of {@link createJudge}: the ledger's retention and the sync check's staleness bound. */
export type JudgeOptions = LedgerOptions & SyncOptions;

/** A judge with internals exposed for tests of bounded memory. */
export class ChatstormJudge implements Judge {
  readonly ledger: Ledger;
  readonly delay: DelayMetrics;
  /** The checks, in report order. */
  readonly checkers: Checker[];
  private readonly sync: SyncChecker;
  private readonly history: HistoryChecker;
  private readonly ordering: OrderingChecker;
  private readonly isolation: IsolationChecker;
  private readonly connections = new ConnectionAttempts();

  constructor(options: JudgeOptions = {}) {
    const ledger = (this.ledger = new Ledger(options));
    this.delay = new DelayMetrics(ledger);
    this.ordering = new OrderingChecker(ledger);
    this.sync = new SyncChecker(ledger, { maxStaleMs: options.maxStaleMs });
    this.history = new HistoryChecker(ledger);
    this.isolation = new IsolationChecker(ledger);
    this.checkers = [new LossChecker(ledger), new DuplicatesChecker(ledger), this.ordering, this.sync, this.history, this.isolation, new IntegrityChecker(ledger)];
  }

  step(e: HistoryEvent): void {
    const note = this.ledger.step(e);
    this.delay.step(e, note);
    this.connections.step(e);
    for (const c of this.checkers) c.step(e, note);
  }

  result(): Verdict {
    const checks: Record<string, CheckResult> = {};
    for (const c of this.checkers) checks[c.name] = c.result();
    const metrics: Record<string, LatencySummary> = {
      ...this.delay.histograms.summaries(),
      ...this.sync.histograms.summaries(),
      ...this.history.histograms.summaries(),
    };
    return { checks, metrics, series: this.delay.series(), connections: this.connections.result() };
  }

  /**
   * The histograms behind `result()`: every latency metric by name, and the per-second delivery
   * histograms behind `series`. Shards save them encoded so a merge adds counts, never percentiles.
   */
  histograms(): { metrics: Map<string, LatencyHistogram>; perSecond: ReadonlyMap<number, LatencyHistogram> } {
    const metrics = new Map<string, LatencyHistogram>();
    for (const set of [this.delay.histograms, this.sync.histograms, this.history.histograms]) {
      for (const name of set.names()) metrics.set(name, set.get(name) as LatencyHistogram);
    }
    return { metrics, perSecond: this.delay.secondHistograms() };
  }

  /** Entries held in all internal tables; grows with messages in flight, not with run length. */
  retained(): number {
    return (
      this.ledger.retained() +
      this.ordering.retained() +
      this.delay.retained() +
      this.sync.retained() +
      this.history.retained() +
      this.isolation.retained()
    );
  }
}

/** All checks and delay metrics composed into one fold. */
export function createJudge(options?: JudgeOptions): Judge {
  return new ChatstormJudge(options);
}

/** Judge a whole history. */
export function judgeAll(events: Iterable<HistoryEvent>, options?: JudgeOptions): Verdict {
  const judge = new ChatstormJudge(options);
  for (const e of events) judge.step(e);
  return judge.result();
}
