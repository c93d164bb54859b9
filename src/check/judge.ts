/**
 * The judge: every check and the delay metrics over one shared ledger, so each event is indexed
 * once. `judgeAll` folds a whole saved history.
 *
 *   event ──> ledger.step ──> loss, duplicates, ordering, delay, sync, history, isolation, integrity
 *                                                   │
 *                                        result() ──┴──> Verdict { checks, metrics }
 */
import type { HistoryEvent } from '../history/events.ts';
import { DelayMetrics } from './delay.ts';
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
  readonly checkers: Checker[];
  private readonly loss: LossChecker;
  private readonly duplicates: DuplicatesChecker;
  private readonly ordering: OrderingChecker;
  private readonly sync: SyncChecker;
  private readonly history: HistoryChecker;
  private readonly isolation: IsolationChecker;
  private readonly integrity: IntegrityChecker;

  constructor(options: JudgeOptions = {}) {
    this.ledger = new Ledger(options);
    this.delay = new DelayMetrics(this.ledger);
    this.ordering = new OrderingChecker(this.ledger);
    this.sync = new SyncChecker(this.ledger, { maxStaleMs: options.maxStaleMs });
    this.history = new HistoryChecker(this.ledger);
    this.isolation = new IsolationChecker(this.ledger);
    this.loss = new LossChecker(this.ledger);
    this.duplicates = new DuplicatesChecker(this.ledger);
    this.integrity = new IntegrityChecker(this.ledger);
    this.checkers = [this.loss, this.duplicates, this.ordering, this.sync, this.history, this.isolation, this.integrity];
  }

  step(e: HistoryEvent): void {
    // One call site per checker (not a loop over `checkers`): each stays monomorphic and can be
    // inlined. The order is the `checkers` order.
    this.ledger.step(e);
    this.delay.step(e);
    this.loss.step(e);
    this.duplicates.step(e);
    this.ordering.step(e);
    this.sync.step(e);
    this.history.step(e);
    this.isolation.step(e);
    this.integrity.step(e);
  }

  result(): Verdict {
    const checks: Record<string, CheckResult> = {};
    for (const c of this.checkers) checks[c.name] = c.result();
    const metrics: Record<string, LatencySummary> = {
      ...this.delay.histograms.summaries(),
      ...this.sync.histograms.summaries(),
      ...this.history.histograms.summaries(),
    };
    return { checks, metrics, series: this.delay.series() };
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
