/**
 * The words every report uses beside a delay table for the harness's own lag (summary.json's
 * `harnessLag`, weighed by src/check/gate.ts). Rendering only: nothing here decides.
 */
import { percentOf, type HarnessLagFinding } from '../check/gate.ts';

/** Format milliseconds the way the reports do. */
export type FormatMs = (ms: number) => string;

/**
 * One line for beside a delay table: the harness lag at p50/p99, what it is made of, the limit,
 * and whether it is material; `not measured` when the run has no figures (older summaries).
 */
export function harnessLagLine(f: HarnessLagFinding | null | undefined, ms: FormatMs): string {
  if (!f) return 'harness lag: not measured';
  const figures =
    `harness lag (added by chatstorm to a delivery): p50 ${ms(f.p50Ms)}, p99 ${ms(f.p99Ms)} ` +
    `(sender lag p99 ${ms(f.senderLagP99Ms)}, event-loop delay p99 ${ms(f.eventLoopDelayP99Ms)}); ` +
    `limits p50 ${ms(f.limitP50Ms)}, p99 ${ms(f.limitP99Ms)}` +
    (f.waitedForCpuShare === null || f.waitedForCpuShare === undefined ? '' : `; waited for a CPU ${percentOf(f.waitedForCpuShare)} % of the time`);
  if (!f.material) return `${figures}: not material`;
  return f.allowed
    ? `${figures}: MATERIAL (allowed by --allow-harness-lag): every delay figure is inflated by harness lag up to ${ms(f.p99Ms)} (p99)`
    : `${figures}: MATERIAL: the delays are partly the harness's own, so the run is an error`;
}

/** The mark after a figure the harness lag inflated, or '' when it is not one of them. */
export function inflatedMark(f: HarnessLagFinding | null | undefined, metric: string, ms: FormatMs): string {
  return f && f.inflated.includes(metric) ? `inflated by harness lag up to ${ms(f.p99Ms)}` : '';
}
