import { describe, expect, it } from 'vitest';
import { mergeProgress } from '../../src/shard/local-workers.ts';

describe('mergeProgress', () => {
  it('sums the counts and rates of every worker, shows the slowest phase, the longest clock and the worst p99', () => {
    const p = mergeProgress([
      { elapsedMs: 5000, sent: 10, acked: 9, delivered: 20, live: 4, devices: 4, phase: 'drain', totalMs: 30_000, sentPerS: 2, deliveredPerS: 4, inFlight: 1, deliveryP99Ms: 80, anomalies: { ordering: 1 }, activeFaults: 1 },
      { elapsedMs: 5200, sent: 7, acked: 7, delivered: 11, live: 3, devices: 5, phase: 'play', totalMs: 31_000, sentPerS: 3, deliveredPerS: 5, inFlight: 0, deliveryP99Ms: 120, anomalies: { ordering: 2, isolation: 1 }, activeFaults: 1 },
    ]);
    expect(p).toEqual({
      elapsedMs: 5200, sent: 17, acked: 16, delivered: 31, live: 7, devices: 9, phase: 'play',
      totalMs: 31_000, sentPerS: 5, deliveredPerS: 9, inFlight: 1, deliveryP99Ms: 120, anomalies: { ordering: 3, isolation: 1 }, activeFaults: 1,
    });
  });

  it('has no total before every worker plays, and no p99 before any delivery', () => {
    const p = mergeProgress([
      { elapsedMs: 100, sent: 0, acked: 0, delivered: 0, live: 1, devices: 2, phase: 'connect', totalMs: null, sentPerS: 0, deliveredPerS: 0, inFlight: 0, deliveryP99Ms: null, anomalies: {}, activeFaults: 0 },
      { elapsedMs: 120, sent: 0, acked: 0, delivered: 0, live: 2, devices: 2, phase: 'play', totalMs: 9000, sentPerS: 0, deliveredPerS: 0, inFlight: 0, deliveryP99Ms: null, anomalies: {}, activeFaults: 0 },
    ]);
    expect(p.totalMs).toBeNull();
    expect(p.deliveryP99Ms).toBeNull();
    expect(p.phase).toBe('connect');
    expect(p.anomalies).toEqual({});
  });

  it('keeps "judged after the run" (no anomalies) when the workers judge after it ends', () => {
    const w = { elapsedMs: 100, sent: 3, acked: 3, delivered: 6, live: 2, devices: 2, phase: 'play' as const, totalMs: 9000, sentPerS: 1, deliveredPerS: 2, inFlight: 0, deliveryP99Ms: null, anomalies: null, activeFaults: 0 };
    expect(mergeProgress([w, { ...w }]).anomalies).toBeNull();
  });
});
