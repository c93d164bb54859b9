/**
 * Micro benchmark: recording a latency into the histograms a run keeps (src/stats/hdr.ts), against
 * the same values recorded into hdr-histogram-js's own 32-bit histogram (what LatencyHistogram used
 * before it computed buckets with integer arithmetic), in the same run.
 *
 *   node --import tsx bench/hdr-record.ts [--values 2000000] [--rounds 5]
 *
 * Each round records the same values (0–2 s, skewed low like delivery delays) into five
 * histograms per value, as `DelayMetrics` does per delivery (three of 3 digits at 1 µs, the
 * per-second one of 1 digit at 100 µs, one more of 3 digits), alternating which side goes first.
 * Prints ns per five records for both, the ratio per round and the median ratio; and checks both
 * sides' first histogram ended with the same p99, so a faster side that records wrongly is caught
 * (test/stats/hdr.test.ts compares whole encodings, every shape).
 */
import { build } from 'hdr-histogram-js';
import { performance } from 'node:perf_hooks';
import { numericArg } from './measure-child.ts';
import { median } from './lib/median.ts';
import { LatencyHistogram } from '../src/stats/hdr.ts';

const n = numericArg('values', 2_000_000);
const rounds = numericArg('rounds', 5);
const SHAPES = [{ digits: 3, lowestUs: 1 }, { digits: 1, lowestUs: 100 }, { digits: 3, lowestUs: 1 }, { digits: 3, lowestUs: 1 }, { digits: 3, lowestUs: 1 }] as const;

// Deterministic values: delivery-like delays in ms, most small, a long tail.
const values = new Float64Array(n);
let x = 12345;
for (let i = 0; i < n; i++) {
  x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
  values[i] = (x / 2_147_483_648) ** 3 * 2_000;
}

function ours(): { ns: number; p99: number } {
  const hs = SHAPES.map((s) => new LatencyHistogram(s));
  const t0 = performance.now();
  for (let i = 0; i < n; i++) for (const h of hs) h.recordMs(values[i]!);
  return { ns: ((performance.now() - t0) * 1e6) / n, p99: hs[0]!.percentileMs(99) };
}

function library(): { ns: number; p99: number } {
  const hs = SHAPES.map((s) => build({ lowestDiscernibleValue: s.lowestUs, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: s.digits, autoResize: false, bitBucketSize: 32 }));
  const t0 = performance.now();
  // The same work LatencyHistogram.recordMs does around the library's recordValue.
  for (let i = 0; i < n; i++) for (const h of hs) h.recordValue(Math.round(values[i]! * 1000));
  return { ns: ((performance.now() - t0) * 1e6) / n, p99: Math.min(hs[0]!.getValueAtPercentile(99), hs[0]!.maxValue) / 1000 };
}

const ratios: number[] = [];
for (let r = 1; r <= rounds; r++) {
  let a: { ns: number; p99: number };
  let b: { ns: number; p99: number };
  if (r % 2 === 1) {
    a = ours();
    b = library();
  } else {
    b = library();
    a = ours();
  }
  if (a.p99 !== b.p99) throw new Error(`round ${r}: p99 differs (ours ${a.p99} ms, library ${b.p99} ms)`);
  ratios.push(a.ns / b.ns);
  console.log(`round ${r}: LatencyHistogram ${a.ns.toFixed(1)} ns, hdr-histogram-js ${b.ns.toFixed(1)} ns per five records, ratio ${(a.ns / b.ns).toFixed(3)}`);
}
console.log(`median ratio (LatencyHistogram / hdr-histogram-js), ${rounds} rounds of ${n} values: ${median(ratios).toFixed(3)}`);
