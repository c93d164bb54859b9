/** Statistics helpers: HDR latency histograms. */
export { LatencyHistogram, HistogramSet, DEFAULT_HIGHEST_US } from './hdr.ts';
export type { LatencySummary, LatencyHistogramOptions } from './hdr.ts';
