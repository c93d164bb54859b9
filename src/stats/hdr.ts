/**
 * A latency histogram: hdr-histogram-js with explicit bounds, recording microseconds and
 * answering in milliseconds. History times are fractional milliseconds; recording them as whole
 * microseconds keeps sub-millisecond resolution (loopback acks take ~100 us) without floats in
 * the histogram.
 */
import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64, Int32Histogram, type Histogram } from 'hdr-histogram-js';

/** Values below this fit the unsigned 32-bit arithmetic of {@link Int32Counts}. */
const UINT32_LIMIT = 2 ** 32;

/**
 * hdr-histogram-js's `Int32Histogram` with the bucket of a value found by integer arithmetic.
 * The library computes `floor(log2(v))` and two `pow(2, …)` per recorded value (generic
 * `Math.pow` is a C call in V8); for whole values below 2^32, `31 - clz32(v)` and shifts give the
 * same bucket (test/stats/hdr.test.ts compares both at every power of two and around it). A run
 * records each delivery into five histograms (delay.ts): bench/hdr-record.ts, 426 -> 44 ns per
 * five records (median ratio 0.10 over 5 rounds, Node 20); `Math.pow` was 40 of 1,068 samples of
 * the XMPP harness's main thread (docs/performance.md, session 6).
 */
class Int32Counts extends Int32Histogram {
  override countsArrayIndex(value: number): number {
    if (value < 0) throw new Error('Histogram recorded value cannot be negative.');
    const bucketIndex = Math.max(31 - Math.clz32(value) - this.subBucketHalfCountMagnitude - this.unitMagnitude, 0);
    const subBucketIndex = value >>> (bucketIndex + this.unitMagnitude);
    return ((bucketIndex + 1) << this.subBucketHalfCountMagnitude) + subBucketIndex - this.subBucketHalfCount;
  }
}

/** Percentiles and moments of one latency distribution, in milliseconds. */
export interface LatencySummary {
  count: number;
  p50Ms: number;
  p90Ms: number;
  p95Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  meanMs: number;
  /**
   * Values that could not be kept as they were (above the bound: clamped; below zero: recorded
   * as 0; not a number: dropped). Present only when non-zero: a sign of a clock or driver bug.
   */
  outOfRange?: number;
}

/**
 * A histogram in a file: HDR's compressed base64 encoding (counts per bucket, lossless) plus what
 * the encoding does not hold: the exact sum behind the mean and the out-of-range counts.
 */
export interface EncodedLatencyHistogram {
  hdr: string;
  sumUs: number;
  /** Exact largest value: the encoding holds only its bucket. */
  maxUs: number;
  clamped: number;
  negative: number;
  nonFinite: number;
}

/** Options of {@link LatencyHistogram}. */
export interface LatencyHistogramOptions {
  /** Largest value kept exactly; larger values are clamped to it and counted. Default 1 h (3.6e9 us). */
  highestUs?: number;
  /** Significant decimal digits kept. Default 3 (0.1 % relative error). */
  digits?: 1 | 2 | 3 | 4 | 5;
  /** Smallest value told apart from 0, default 1 us. A coarser floor makes the histogram smaller. */
  lowestUs?: number;
}

/** Default upper bound: one hour. A chat message later than that is lost for any practical purpose. */
export const DEFAULT_HIGHEST_US = 3_600_000_000;

/**
 * An HDR histogram of latencies. Negative values (clock quirks: a delivery observed before its
 * intended time cannot happen on one monotonic clock, but a driver bug could produce one) are
 * recorded as 0 and counted in `negativeCount`; values above the bound are clamped and counted in
 * `clampedCount`, never dropped, so percentiles are never silently optimistic.
 */
export class LatencyHistogram {
  readonly highestUs: number;
  private readonly hist: Histogram;
  private sumUs = 0;
  /** Values above `highestUs`, recorded as `highestUs`. */
  clampedCount = 0;
  /** Negative values, recorded as 0. */
  negativeCount = 0;
  /** NaN or infinite values, not recorded. */
  nonFiniteCount = 0;
  /**
   * Exact maximum of a decoded histogram (HDR's encoding keeps only the bucket of the largest
   * value, whose top can be 0.1 % above it); null for a histogram that recorded its own values.
   */
  private exactMaxUs: number | null = null;

  constructor(options: LatencyHistogramOptions = {}) {
    this.highestUs = options.highestUs ?? DEFAULT_HIGHEST_US;
    const lowestUs = options.lowestUs ?? 1;
    const digits = options.digits ?? 3;
    // Int32Counts is the library's 32-bit histogram (fixed size, as `build` with autoResize off).
    this.hist =
      this.highestUs < UINT32_LIMIT && Number.isInteger(lowestUs)
        ? new Int32Counts(lowestUs, this.highestUs, digits)
        : build({ lowestDiscernibleValue: lowestUs, highestTrackableValue: this.highestUs, numberOfSignificantValueDigits: digits, autoResize: false, bitBucketSize: 32 });
  }

  /** Number of values recorded. */
  get count(): number {
    return this.hist.totalCount;
  }

  /** Record one latency given in (fractional) milliseconds. */
  recordMs(latencyMs: number): void {
    let us = Math.round(latencyMs * 1000);
    if (!Number.isFinite(us)) {
      this.nonFiniteCount++;
      return;
    }
    if (us < 0) {
      this.negativeCount++;
      us = 0;
    } else if (us > this.highestUs) {
      this.clampedCount++;
      us = this.highestUs;
    }
    this.hist.recordValue(us);
    this.sumUs += us;
  }

  /**
   * Value at `percentile` (0..100) in milliseconds; 0 when empty. HDR answers with the highest
   * value equivalent to the bucket, which can exceed the largest recorded value by the bucket
   * width; it is capped at the maximum so that p99 <= max always holds in reports.
   */
  percentileMs(percentile: number): number {
    if (this.count === 0) return 0;
    return Math.min(this.hist.getValueAtPercentile(percentile), this.maxUs()) / 1000;
  }

  /** Forget every recorded value (the bounds stay). */
  reset(): void {
    this.hist.reset();
    this.sumUs = 0;
    this.clampedCount = 0;
    this.negativeCount = 0;
    this.nonFiniteCount = 0;
  }

  /** Fold another histogram (e.g. from another shard) into this one; merging is lossless. */
  merge(other: LatencyHistogram): void {
    if (this.exactMaxUs !== null || other.exactMaxUs !== null) this.exactMaxUs = Math.max(this.maxUs(), other.maxUs());
    this.hist.add(other.hist);
    this.sumUs += other.sumUs;
    this.clampedCount += other.clampedCount;
    this.negativeCount += other.negativeCount;
    this.nonFiniteCount += other.nonFiniteCount;
  }

  /** This histogram in a form a file can hold and {@link LatencyHistogram.decode} reads back whole. */
  encode(): EncodedLatencyHistogram {
    return { hdr: encodeIntoCompressedBase64(this.hist), sumUs: this.sumUs, maxUs: this.count === 0 ? 0 : this.maxUs(), clamped: this.clampedCount, negative: this.negativeCount, nonFinite: this.nonFiniteCount };
  }

  /**
   * A histogram from its encoded form, with the bounds and precision the encoding carries.
   * Decoding then merging is lossless: counts per bucket are added, never percentiles. A decoded
   * histogram is for merging and reading; values recorded into it later do not move its maximum.
   */
  static decode(e: EncodedLatencyHistogram): LatencyHistogram {
    const d = decodeFromCompressedBase64(e.hdr, 32);
    const lowestUs = (d as Histogram & { lowestDiscernibleValue?: number }).lowestDiscernibleValue ?? 1;
    const h = new LatencyHistogram({ highestUs: d.highestTrackableValue, lowestUs, digits: d.numberOfSignificantValueDigits as 1 | 2 | 3 | 4 | 5 });
    h.hist.add(d);
    h.sumUs = e.sumUs;
    h.exactMaxUs = e.maxUs;
    h.clampedCount = e.clamped;
    h.negativeCount = e.negative;
    h.nonFiniteCount = e.nonFinite;
    return h;
  }

  private maxUs(): number {
    return this.exactMaxUs ?? this.hist.maxValue;
  }

  /** Summary in milliseconds. The mean is exact (kept beside the histogram), percentiles are HDR. */
  summary(): LatencySummary {
    const count = this.count;
    return {
      count,
      p50Ms: this.percentileMs(50),
      p90Ms: this.percentileMs(90),
      p95Ms: this.percentileMs(95),
      p99Ms: this.percentileMs(99),
      p999Ms: this.percentileMs(99.9),
      maxMs: count === 0 ? 0 : this.maxUs() / 1000,
      meanMs: count === 0 ? 0 : this.sumUs / count / 1000,
      ...(this.clampedCount + this.negativeCount + this.nonFiniteCount > 0
        ? { outOfRange: this.clampedCount + this.negativeCount + this.nonFiniteCount }
        : {}),
    };
  }
}

/** A family of histograms created on first use, e.g. `delivery`, `delivery[text]`. */
export class HistogramSet {
  private readonly byName = new Map<string, LatencyHistogram>();
  constructor(private readonly options: LatencyHistogramOptions = {}) {}

  /** Record `latencyMs` into the histogram called `name`, creating it on first use. */
  recordMs(name: string, latencyMs: number): void {
    this.histogram(name).recordMs(latencyMs);
  }

  /**
   * The histogram called `name`, created (and listed, in creation order) on first use. Hot
   * callers keep the returned object instead of looking it up by name on every record.
   */
  histogram(name: string): LatencyHistogram {
    let h = this.byName.get(name);
    if (h === undefined) {
      h = new LatencyHistogram(this.options);
      this.byName.set(name, h);
    }
    return h;
  }

  get(name: string): LatencyHistogram | undefined {
    return this.byName.get(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  /** Summaries of every histogram, keyed by name. */
  summaries(): Record<string, LatencySummary> {
    const out: Record<string, LatencySummary> = {};
    for (const [name, h] of this.byName) out[name] = h.summary();
    return out;
  }
}
