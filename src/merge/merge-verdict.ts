/**
 * Merging the verdicts of shards into one, without loss:
 *
 *   checks      status: fail if any shard failed, else pass if any passed, else not checked;
 *               anomaly counts summed; witnesses kept per shard (each names its shard);
 *               counters summed, durations (`...Ms`) the largest
 *   metrics     HDR histograms decoded and added bucket by bucket, then summarised
 *               (never percentiles of percentiles)
 *   series      per-second delivery histograms added second by second
 *
 * Pure: the caller reads the files and decides what a missing shard means.
 */
import { CHECK_NAMES, type CheckResult, type DelayPoint, type LatencySummary, type Verdict, type Witness } from '../check/index.ts';
import { LatencyHistogram, type EncodedLatencyHistogram } from '../stats/hdr.ts';
import { SHARD_SCHEMA, type ShardHistograms } from './shard-files.ts';

/** One shard's part of a merge. */
export interface ShardPart {
  /** `i/n`, as witnesses and notes name the shard. */
  label: string;
  checks: Record<string, CheckResult>;
  histograms: ShardHistograms;
}

/** A witness of a merged verdict: the shard that found it is named in it. */
export type ShardWitness = Witness & { shard: string };

/** The merged verdict and the merged histograms (saved beside the merged report). */
export function mergeVerdicts(parts: readonly ShardPart[]): { verdict: Verdict; histograms: ShardHistograms } {
  const metrics = mergeFamily(parts.map((p) => p.histograms.metrics));
  const perSecond = mergeFamily(parts.map((p) => p.histograms.perSecond));
  const series: DelayPoint[] = [...perSecond.entries()]
    .map(([tS, h]): DelayPoint => {
      const s = h.summary();
      return { tS: Number(tS), count: s.count, p50Ms: s.p50Ms, p99Ms: s.p99Ms, maxMs: s.maxMs };
    })
    .sort((a, b) => a.tS - b.tS);
  const summaries: Record<string, LatencySummary> = {};
  for (const [name, h] of metrics) summaries[name] = h.summary();
  return {
    verdict: { checks: mergeChecks(parts), metrics: summaries, series },
    histograms: { schema: SHARD_SCHEMA, metrics: encodeAll(metrics), perSecond: encodeAll(perSecond) },
  };
}

/** Merge the check results of shards (see the module comment for the rules). */
export function mergeChecks(parts: readonly Pick<ShardPart, 'label' | 'checks'>[]): Record<string, CheckResult> {
  const names = [...new Set(parts.flatMap((p) => Object.keys(p.checks)))];
  const order = (n: string) => {
    const i = (CHECK_NAMES as readonly string[]).indexOf(n);
    return i < 0 ? CHECK_NAMES.length : i;
  };
  names.sort((a, b) => order(a) - order(b) || (a < b ? -1 : a > b ? 1 : 0));
  const out: Record<string, CheckResult> = {};
  for (const name of names) {
    const results = parts.flatMap((p) => (p.checks[name] ? [{ label: p.label, r: p.checks[name] }] : []));
    const status = results.some((x) => x.r.status === 'fail') ? 'fail' : results.some((x) => x.r.status === 'pass') ? 'pass' : 'not-checked';
    const witnesses: ShardWitness[] = results.flatMap((x) => x.r.witnesses.map((w) => ({ ...w, shard: x.label, summary: `shard ${x.label}: ${w.summary}` })));
    const metrics: Record<string, number> = {};
    let anyMetrics = false;
    for (const { r } of results) {
      for (const [k, v] of Object.entries(r.metrics ?? {})) {
        anyMetrics = true;
        // Counters add up across shards; a duration (`longestStaleMs`) is the worst shard's.
        metrics[k] = k.endsWith('Ms') ? Math.max(metrics[k] ?? v, v) : (metrics[k] ?? 0) + v;
      }
    }
    const noted = results.filter((x) => x.r.note !== undefined);
    const sameNote = noted.length === results.length && noted.every((x) => x.r.note === noted[0]?.r.note);
    const note = noted.length === 0 ? undefined : sameNote ? noted[0]?.r.note : noted.map((x) => `shard ${x.label}: ${x.r.note}`).join('; ');
    out[name] = {
      name,
      status,
      count: results.reduce((n, x) => n + x.r.count, 0),
      witnesses,
      ...(note === undefined ? {} : { note }),
      ...(anyMetrics ? { metrics } : {}),
    };
  }
  return out;
}

function mergeFamily(families: readonly Record<string, EncodedLatencyHistogram>[]): Map<string, LatencyHistogram> {
  const out = new Map<string, LatencyHistogram>();
  for (const family of families) {
    for (const [name, encoded] of Object.entries(family)) {
      const h = LatencyHistogram.decode(encoded);
      const into = out.get(name);
      if (into) into.merge(h);
      else out.set(name, h);
    }
  }
  return out;
}

function encodeAll(m: ReadonlyMap<string, LatencyHistogram>): Record<string, EncodedLatencyHistogram> {
  const out: Record<string, EncodedLatencyHistogram> = {};
  for (const [k, h] of m) out[k] = h.encode();
  return out;
}
