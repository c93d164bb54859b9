/**
 * The baseline gate: compare this run with a earlier good run's summary.json and fail (exit 1)
 * when a delivery-delay percentile rose, or the delivered throughput fell, by more than the
 * allowed share.
 *
 *   --baseline a/summary.json --max-regression 10%
 *        |                           |
 *   loadBaseline (exit 2 on bad input)  parseRegression (exit 2)
 *        \__________  compareToBaseline(summary)  __________/
 *                               |
 *                      gateOnBaseline: summary.baseline, verdict pass -> fail
 *
 * A comparison that cannot be made (no data on either side) is `not-checked`, never a pass, and
 * does not fail the run on its own.
 */
import { readFile } from 'node:fs/promises';
import { UsageError } from '../errors.ts';
import type { Summary } from './summary.ts';
import { formatMs } from './units.ts';

/** Allowed regression when `--baseline` comes without `--max-regression`, in per cent. */
export const DEFAULT_MAX_REGRESSION_PCT = 10;

/** What the gate needs from the baseline run's summary. */
export interface BaselineRun {
  path: string;
  runId: string;
  startedAt: string | null;
  delivery: { p50Ms: number; p90Ms: number; p99Ms: number } | null;
  deliveredPerS: number | null;
}

/** One metric of this run against the baseline. `changePct` is signed: + means higher than the baseline. */
export interface BaselineComparison {
  metric: 'delivery.p50' | 'delivery.p90' | 'delivery.p99' | 'throughput.deliveredPerS';
  unit: 'ms' | 'per-s';
  /** Which direction is worse. */
  worse: 'higher' | 'lower';
  baseline: number | null;
  current: number | null;
  changePct: number | null;
  status: 'pass' | 'fail' | 'not-checked';
  note?: string;
}

/** The comparison as summary.json holds it (`baseline`). */
export interface BaselineReport {
  path: string;
  runId: string;
  startedAt: string | null;
  maxRegressionPct: number;
  /** `fail` when any comparison failed; `not-checked` when none could be made. */
  status: 'pass' | 'fail' | 'not-checked';
  comparisons: BaselineComparison[];
}

/** Parse `--max-regression`: a percentage above 0 such as `10%` or `2.5%` (the `%` may be left out). */
export function parseRegression(flag: string, value: string | number): number {
  const text = String(value).trim();
  const m = /^(\d+(?:\.\d+)?)\s*%?$/.exec(text);
  const pct = m ? Number(m[1]) : NaN;
  if (!(pct > 0) || !Number.isFinite(pct)) {
    throw new UsageError(`${flag} must be a percentage above 0 such as 10%, got ${JSON.stringify(text)}`);
  }
  return pct;
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * Read and check a baseline summary. Only the fields the gate uses are required, so a summary
 * written by a later chatstorm (more fields, same schema 1) is still a valid baseline. Throws
 * {@link UsageError} (exit 2) naming `flag` when the file is missing, not JSON or not a summary.
 */
export async function loadBaseline(path: string, flag = '--baseline'): Promise<BaselineRun> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`${flag} ${path}: cannot read the file (${code ?? (err as Error).message}); pass the summary.json of an earlier run, e.g. reports/<run-id>/summary.json`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new UsageError(`${flag} ${path} is not JSON; pass the summary.json of an earlier run`);
  }
  const notSummary = (what: string) => new UsageError(`${flag} ${path} is not a chatstorm summary.json: ${what}`);
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw notSummary('expected a JSON object');
  const s = doc as Record<string, unknown>;
  if (s.schema !== 1) throw notSummary(`expected "schema": 1, got ${JSON.stringify(s.schema)}`);
  if (typeof s.runId !== 'string') throw notSummary('expected a string "runId"');
  if (typeof s.metrics !== 'object' || s.metrics === null) throw notSummary('expected a "metrics" object');
  const d = (s.metrics as Record<string, unknown>).delivery as Record<string, unknown> | undefined;
  let delivery: BaselineRun['delivery'] = null;
  if (d !== undefined) {
    if (!isNum(d.p50Ms) || !isNum(d.p90Ms) || !isNum(d.p99Ms) || !isNum(d.count)) throw notSummary('metrics.delivery needs numeric count, p50Ms, p90Ms and p99Ms');
    if (d.count > 0) delivery = { p50Ms: d.p50Ms, p90Ms: d.p90Ms, p99Ms: d.p99Ms };
  }
  const t = s.throughput as Record<string, unknown> | null | undefined;
  const deliveredPerS = t && isNum(t.deliveredPerS) ? t.deliveredPerS : null;
  if (delivery === null && deliveredPerS === null) {
    throw new UsageError(`${flag} ${path} has no deliveries to compare with (run ${s.runId} delivered nothing); pick a run that passed`);
  }
  return { path, runId: s.runId, startedAt: typeof s.startedAt === 'string' ? s.startedAt : null, delivery, deliveredPerS };
}

function compareOne(metric: BaselineComparison['metric'], unit: BaselineComparison['unit'], worse: BaselineComparison['worse'], baseline: number | null, current: number | null, maxPct: number): BaselineComparison {
  const c: BaselineComparison = { metric, unit, worse, baseline, current, changePct: null, status: 'not-checked' };
  if (baseline === null) return { ...c, note: 'the baseline has no value (run without deliveries, or written by an older chatstorm)' };
  if (current === null) return { ...c, note: 'this run has no value' };
  if (baseline === 0) {
    // No ratio against zero: a zero-delay or zero-throughput baseline can only be matched.
    const pass = worse === 'higher' ? current <= 0 : true;
    return { ...c, status: pass ? 'pass' : 'fail', note: 'the baseline is 0: any rise counts' };
  }
  const changePct = Math.round(((current - baseline) / baseline) * 100 * 100) / 100;
  const regressed = worse === 'higher' ? changePct > maxPct : -changePct > maxPct;
  return { ...c, changePct, status: regressed ? 'fail' : 'pass' };
}

/** Compare a run's summary with its baseline. Pure. */
export function compareToBaseline(s: Pick<Summary, 'metrics' | 'throughput'>, base: BaselineRun, maxRegressionPct: number): BaselineReport {
  const d = s.metrics.delivery && s.metrics.delivery.count > 0 ? s.metrics.delivery : null;
  const comparisons = [
    compareOne('delivery.p50', 'ms', 'higher', base.delivery?.p50Ms ?? null, d?.p50Ms ?? null, maxRegressionPct),
    compareOne('delivery.p90', 'ms', 'higher', base.delivery?.p90Ms ?? null, d?.p90Ms ?? null, maxRegressionPct),
    compareOne('delivery.p99', 'ms', 'higher', base.delivery?.p99Ms ?? null, d?.p99Ms ?? null, maxRegressionPct),
    compareOne('throughput.deliveredPerS', 'per-s', 'lower', base.deliveredPerS, s.throughput?.deliveredPerS ?? null, maxRegressionPct),
  ];
  const status = comparisons.some((c) => c.status === 'fail') ? 'fail' : comparisons.some((c) => c.status === 'pass') ? 'pass' : 'not-checked';
  return { path: base.path, runId: base.runId, startedAt: base.startedAt, maxRegressionPct, status, comparisons };
}

/** A compared value with its unit: `1.52s`, `439ms`, `152.3/s`. */
export function formatBaselineValue(c: Pick<BaselineComparison, 'unit'>, v: number | null): string {
  if (v === null) return 'no data';
  return c.unit === 'ms' ? formatMs(v) : `${v.toFixed(1)}/s`;
}

/** `+23.4%`, `-5%`, or `n/a`. */
export function formatChange(pct: number | null): string {
  if (pct === null) return 'n/a';
  return `${pct > 0 ? '+' : ''}${pct.toFixed(1)}%`;
}

/** One line per failed comparison, for the verdict's reasons. */
export function baselineReasons(b: BaselineReport): string[] {
  return b.comparisons
    .filter((c) => c.status === 'fail')
    .map(
      (c) =>
        `baseline: ${c.metric} ${c.worse === 'higher' ? 'rose' : 'fell'} ${formatChange(c.changePct)} (${formatBaselineValue(c, c.current)} vs ${formatBaselineValue(c, c.baseline)} in ${b.runId}), more than the ${b.maxRegressionPct}% allowed`,
    );
}

/**
 * Attach the comparison to the summary and apply it to the verdict: a regression turns `pass`
 * into `fail` (exit 1) and adds a reason; an `error` verdict stays an error (the harness's own
 * failure wins, as in the SLA gate).
 */
export function gateOnBaseline(s: Summary, b: BaselineReport): Summary {
  const reasons = baselineReasons(b);
  if (s.verdict === 'error' || reasons.length === 0) return { ...s, baseline: b };
  return { ...s, baseline: b, verdict: 'fail', reasons: [...s.reasons, ...reasons] };
}
