/**
 * Connection attempts: how many failed, at which step, and why — so a report can say what made
 * reconnects slow (TCP connect, upgrade, greeting, catch-up). A measurement, not a check: it
 * never fails a run.
 */
import type { HistoryEvent } from '../history/events.ts';

/** Failed attempts at one step. */
export interface StepFailures {
  failed: number;
  /** Of which ended by the harness's connect timeout. */
  timedOut: number;
  /** Longest failed attempt at this step, ms. */
  maxTookMs: number;
}

/** Connection attempts of the run (summary.json `connections`). */
export interface ConnectionSummary {
  attempts: number;
  failed: number;
  /** Failed attempts by the last step they reached. */
  failedByStep: Record<string, StepFailures>;
  /** Up to five most frequent failure reasons, with their counts. */
  topReasons: { reason: string; count: number }[];
}

/** Reasons of failures, with digits masked so that "after 10000 ms" and port numbers group. */
function reasonKey(reason: string): string {
  return reason.replace(/\d+/g, 'N');
}

export class ConnectionAttempts {
  private attempts = 0;
  private readonly byStep = new Map<string, StepFailures>();
  private readonly reasons = new Map<string, number>();
  private failed = 0;

  step(e: HistoryEvent): void {
    if (e.type === 'connect') {
      this.attempts++;
      return;
    }
    if (e.type !== 'connect-failed') return;
    this.failed++;
    let s = this.byStep.get(e.step);
    if (s === undefined) this.byStep.set(e.step, (s = { failed: 0, timedOut: 0, maxTookMs: 0 }));
    s.failed++;
    if (/timed out/i.test(e.reason)) s.timedOut++;
    if (e.tookMs > s.maxTookMs) s.maxTookMs = e.tookMs;
    const key = reasonKey(e.reason);
    this.reasons.set(key, (this.reasons.get(key) ?? 0) + 1);
  }

  result(): ConnectionSummary {
    const topReasons = [...this.reasons]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5)
      .map(([reason, count]) => ({ reason, count }));
    return { attempts: this.attempts, failed: this.failed, failedByStep: Object.fromEntries(this.byStep), topReasons };
  }
}
