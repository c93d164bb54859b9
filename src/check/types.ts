/**
 * The types every checker shares. A checker is a pure fold over the history: `step` each event in
 * order, with what the ledger learned about it, then `result()`; it never touches sockets or clocks.
 */
import type { HistoryEvent } from '../history/events.ts';
import type { LedgerNote } from './ledger.ts';
import type { ConnectionSummary } from './connection-attempts.ts';
import type { LatencySummary } from '../stats/hdr.ts';

export type { LatencySummary };

/** `not-checked` means the check could not run (no relevant events, crashed run); never a pass. */
export type CheckStatus = 'pass' | 'fail' | 'not-checked';

/** One example of an anomaly, with the events that prove it, in history order. */
export interface Witness {
  summary: string;
  key?: string;
  device?: string;
  atMs?: number;
  trail: HistoryEvent[];
}

/** Outcome of one check. `witnesses` holds at most {@link MAX_WITNESSES} examples. */
export interface CheckResult {
  name: string;
  status: CheckStatus;
  /** Number of anomalies found (0 when passing or not checked). */
  count: number;
  witnesses: Witness[];
  note?: string;
  /**
   * Set on a `not-checked` result when the driver declared it cannot give what the check needs
   * (the note says which capability): the gate does not require such a check.
   */
  unsupported?: true;
  metrics?: Record<string, number>;
}

/**
 * A fold over the history that judges one concern. `note` is what the ledger's step returned for
 * `e` (the ledger is stepped first, by the judge or by {@link foldChecker}); a checker may also
 * read the ledger it was built on (population, faults, records), never another checker.
 */
export interface Checker {
  readonly name: string;
  step(e: HistoryEvent, note: LedgerNote): void;
  result(): CheckResult;
}

/** One second of the run: delivery delay percentiles of the first arrivals in that second. */
export interface DelayPoint {
  tS: number;
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** All checks plus latency metrics (`delivery`, `delivery[text]`, `delivery@fault`, `ack`, ...). */
export interface Verdict {
  checks: Record<string, CheckResult>;
  metrics: Record<string, LatencySummary>;
  /** Delivery delay per second of the run (`delivery`'s samples, bucketed by arrival time), for charts. */
  series?: DelayPoint[];
  /** Connection attempts: how many failed, at which step and why. */
  connections?: ConnectionSummary;
}

/** Every check and the delay metrics composed into one fold. */
export interface Judge {
  step(e: HistoryEvent): void;
  result(): Verdict;
}

/** Witnesses kept per failed check. */
export const MAX_WITNESSES = 10;

/** Names of the checks in a verdict, in report order. */
export const CHECK_NAMES = ['loss', 'duplicates', 'ordering', 'sync', 'history', 'isolation', 'integrity'] as const;
export type CheckName = (typeof CHECK_NAMES)[number];
