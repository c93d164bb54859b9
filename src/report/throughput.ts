/**
 * Sent and delivered messages per second over the run's traffic window, for summary.json and the
 * baseline gate. A history listener: it only counts.
 */
import type { HistoryEvent } from '../history/events.ts';

/** Throughput of a run. Rates are over `windowMs`, from the first send to the last send or live delivery, whichever is later. */
export interface Throughput {
  /** Messages sent (first attempts; resends of the same key are not counted again). */
  sent: number;
  /** Live deliveries (one per receiving device; sync replays are not counted). */
  delivered: number;
  windowMs: number;
  sentPerS: number;
  deliveredPerS: number;
}

/** Folds send and deliver events into a {@link Throughput}. */
export class ThroughputMeter {
  private sent = 0;
  private delivered = 0;
  private firstMs = Infinity;
  private lastMs = -Infinity;

  step = (e: HistoryEvent): void => {
    if (e.type === 'send') {
      if (e.attempt !== 1) return;
      this.sent++;
      if (e.atMs < this.firstMs) this.firstMs = e.atMs;
      if (e.atMs > this.lastMs) this.lastMs = e.atMs;
    } else if (e.type === 'deliver' && !e.replay) {
      this.delivered++;
      if (e.atMs > this.lastMs) this.lastMs = e.atMs;
    }
  };

  /** The run's throughput, or null when nothing was sent (no window to divide by). */
  result(): Throughput | null {
    if (this.sent === 0) return null;
    const windowMs = Math.max(this.lastMs - this.firstMs, 1);
    const round = (v: number) => Math.round(v * 1000) / 1000;
    return {
      sent: this.sent,
      delivered: this.delivered,
      windowMs: round(windowMs),
      sentPerS: round((this.sent * 1000) / windowMs),
      deliveredPerS: round((this.delivered * 1000) / windowMs),
    };
  }
}
