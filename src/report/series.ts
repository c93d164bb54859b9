import type { HistoryEvent } from '../history/events.ts';
import type { TimelinePoint } from './write.ts';

/**
 * Delivery delay per second of the run, for the HTML chart. A fold like the checkers: it keeps
 * one small array of delays per second (memory grows with run seconds × deliveries per second,
 * the same as the chart it feeds) and the intended times of sends in flight.
 */
export class DelaySeries {
  private readonly intended = new Map<string, number>();
  private readonly buckets = new Map<number, number[]>();

  step = (e: HistoryEvent): void => {
    if (e.type === 'send' && e.attempt === 1) this.intended.set(e.key, e.intendedMs);
    else if (e.type === 'deliver') {
      const i = this.intended.get(e.key);
      if (i === undefined) return;
      const s = Math.floor(e.atMs / 1000);
      let b = this.buckets.get(s);
      if (!b) this.buckets.set(s, (b = []));
      b.push(e.atMs - i);
    }
  };

  points(): TimelinePoint[] {
    return [...this.buckets.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([tS, v]) => {
        v.sort((a, b) => a - b);
        const q = (p: number) => v[Math.min(v.length - 1, Math.floor(v.length * p))] as number;
        return { tS, count: v.length, p50Ms: q(0.5), p99Ms: q(0.99), maxMs: v[v.length - 1] as number };
      });
  }
}
