import { describe, expect, it } from 'vitest';
import { build, encodeIntoCompressedBase64 } from 'hdr-histogram-js';
import { HistogramSet, LatencyHistogram } from '../../src/stats/hdr.ts';

describe('LatencyHistogram', () => {
  it('puts every value in the bucket hdr-histogram-js itself would (integer bucket arithmetic)', () => {
    for (const [digits, lowestUs] of [[3, 1], [1, 100], [2, 7]] as const) {
      const highestUs = 3_600_000_000;
      const ours = new LatencyHistogram({ digits, lowestUs, highestUs });
      const lib = build({ lowestDiscernibleValue: lowestUs, highestTrackableValue: highestUs, numberOfSignificantValueDigits: digits, autoResize: false, bitBucketSize: 32 });
      const values: number[] = [0, 1, highestUs];
      // Every power of two and its neighbours (where floor(log2) and the shifts change), then a spread.
      for (let k = 0; k < 32; k++) for (let d = -3; d <= 3; d++) values.push(2 ** k + d);
      for (let i = 0; i < 5_000; i++) values.push(Math.floor(((i * 2_654_435_761) % 4_294_967_296) / 4_294_967_296 * highestUs));
      for (const v of values) {
        if (v < 0 || v > highestUs) continue;
        ours.recordMs(v / 1000);
        lib.recordValue(v);
      }
      expect(ours.count).toBe(lib.totalCount);
      expect(ours.encode().hdr).toBe(encodeIntoCompressedBase64(lib));
      for (const p of [1, 50, 90, 99, 99.9]) expect(ours.percentileMs(p) * 1000).toBe(Math.min(lib.getValueAtPercentile(p), lib.maxValue));
    }
  });

  it('summarises an empty histogram as zero count', () => {
    expect(new LatencyHistogram().summary()).toEqual({ count: 0, p50Ms: 0, p90Ms: 0, p95Ms: 0, p99Ms: 0, p999Ms: 0, maxMs: 0, meanMs: 0 });
  });

  it('reports percentiles of 1..1000 ms within 0.1 % (3 significant digits)', () => {
    const h = new LatencyHistogram();
    for (let ms = 1; ms <= 1000; ms++) h.recordMs(ms);
    const s = h.summary();
    expect(s.count).toBe(1000);
    expect(s.p50Ms).toBeCloseTo(500, -0.3);
    expect(Math.abs(s.p99Ms - 990) / 990).toBeLessThan(0.001);
    expect(Math.abs(s.maxMs - 1000) / 1000).toBeLessThan(0.001);
    expect(s.meanMs).toBeCloseTo(500.5, 6);
  });

  it('keeps sub-millisecond resolution by recording microseconds', () => {
    const h = new LatencyHistogram();
    h.recordMs(0.25);
    expect(h.summary().p50Ms).toBeCloseTo(0.25, 3);
  });

  it('clamps values above the bound and counts them instead of dropping them', () => {
    const h = new LatencyHistogram({ highestUs: 10_000_000 });
    h.recordMs(60_000);
    expect(h.count).toBe(1);
    expect(h.clampedCount).toBe(1);
    expect(h.summary().maxMs).toBeGreaterThanOrEqual(9_990);
  });

  it('records negative latencies as zero and counts them', () => {
    const h = new LatencyHistogram();
    h.recordMs(-5);
    expect(h.negativeCount).toBe(1);
    expect(h.summary().maxMs).toBe(0);
  });

  it('merges two histograms without losing counts', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    a.recordMs(10);
    b.recordMs(30);
    a.merge(b);
    expect(a.summary()).toMatchObject({ count: 2, meanMs: 20 });
  });
});

describe('HistogramSet', () => {
  it('creates a named histogram on first record', () => {
    const set = new HistogramSet();
    set.recordMs('delivery[text]', 12);
    expect(set.names()).toEqual(['delivery[text]']);
    expect(set.summaries()['delivery[text]']!.count).toBe(1);
  });
});

describe('LatencyHistogram percentiles', () => {
  it('never reports a percentile above the maximum recorded value', () => {
    const h = new LatencyHistogram();
    for (let i = 0; i < 100; i++) h.recordMs(5);
    const s = h.summary();
    expect(s.p99Ms).toBeLessThanOrEqual(s.maxMs);
    expect(s.maxMs).toBeCloseTo(5, 2);
  });
});

describe('out-of-range values', () => {
  it('counts negative, non-finite and clamped values in the summary instead of hiding them', () => {
    const h = new LatencyHistogram({ highestUs: 1_000_000 });
    h.recordMs(5);
    expect(h.summary().outOfRange).toBeUndefined();
    h.recordMs(-1);
    h.recordMs(Number.NaN);
    h.recordMs(5000);
    expect(h.summary().outOfRange).toBe(3);
    expect(h.count).toBe(3);
  });
});
