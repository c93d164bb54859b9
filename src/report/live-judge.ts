/**
 * What the live judge knows while a run is going, for the progress line and the Prometheus
 * counters: anomalies found so far by check, and the delivery delay p99 so far. Only checks that judge each event as it comes (duplicates, ordering,
 * isolation, integrity, history) are asked; loss and sync are judged at the end of the run (a
 * message in flight is not lost yet), so they have no live figure. The counts come from the
 * checks' own results: nothing is recomputed here.
 */
import { ChatstormJudge, type Judge } from '../check/index.ts';

/** Checks whose anomaly count is final as soon as the events that prove it have arrived. */
export const LIVE_CHECKS = ['duplicates', 'ordering', 'isolation', 'integrity', 'history'] as const;

/** Anomalies so far per live check; empty for a judge that is not chatstorm's own. */
export function liveAnomalies(judge: Judge): Record<string, number> {
  if (!(judge instanceof ChatstormJudge)) return {};
  const out: Record<string, number> = {};
  for (const c of judge.checkers) {
    if ((LIVE_CHECKS as readonly string[]).includes(c.name)) out[c.name] = c.result().count;
  }
  return out;
}

/** Delivery delay p99 so far (ms, from the intended send time), or null before the first delivery. */
export function liveDeliveryP99Ms(judge: Judge): number | null {
  if (!(judge instanceof ChatstormJudge)) return null;
  const h = judge.delay.histograms.get('delivery');
  return h === undefined || h.count === 0 ? null : h.percentileMs(99);
}
