/**
 * Numbers as people read them in reports: durations with their unit (`1.52s`, `439ms`), SLA
 * actuals in the unit of their statistic. summary.json keeps raw milliseconds; only renderings
 * format.
 */
import { parseSla, type SlaResult } from '../check/index.ts';

/** A duration given in ms: `1.52s` from 1 s up, `439ms`, `3.6ms` below 10 ms. */
export function formatMs(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)}s`;
  return `${ms.toFixed(ms < 10 ? 1 : 0)}ms`;
}

/** True when the SLA's statistic is a time (p99, max, mean ...), false for counts. */
export function isTimeSla(expr: string): boolean {
  try {
    const { stat } = parseSla(expr);
    return stat !== null && stat !== 'count';
  } catch {
    // A summary written by another version may hold an expression this parser refuses: show the raw number.
    return false;
  }
}

/** An SLA's actual value with its unit (`1.52s` for a time statistic, `3` for a count), or `no data`. */
export function formatSlaActual(r: Pick<SlaResult, 'expr' | 'actual'>): string {
  if (r.actual === null) return 'no data';
  return isTimeSla(r.expr) ? formatMs(r.actual) : String(r.actual);
}
