import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../src/stats/hdr.ts';

describe('LatencyHistogram encode/decode', () => {
  it('reads back the same summary, exact maximum and mean included', () => {
    const h = new LatencyHistogram();
    for (let i = 0; i < 500; i++) h.recordMs(0.137 * i + 3.3);
    h.recordMs(-1);
    expect(LatencyHistogram.decode(h.encode()).summary()).toEqual(h.summary());
  });

  it('keeps a histogram’s own precision (the chart’s one-digit histograms)', () => {
    const h = new LatencyHistogram({ digits: 1, lowestUs: 100 });
    for (let i = 1; i <= 300; i++) h.recordMs(i * 7.1);
    expect(LatencyHistogram.decode(h.encode()).summary()).toEqual(h.summary());
  });

  it('merges decoded halves into the histogram of all values', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    const all = new LatencyHistogram();
    for (let i = 0; i < 1000; i++) {
      const ms = (i * 37) % 1013;
      (i % 3 === 0 ? a : b).recordMs(ms);
      all.recordMs(ms);
    }
    const merged = LatencyHistogram.decode(a.encode());
    merged.merge(LatencyHistogram.decode(b.encode()));
    expect(merged.summary()).toEqual(all.summary());
  });
});
