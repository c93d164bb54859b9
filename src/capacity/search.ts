/**
 * The capacity search: the highest offered rate at which probes still pass, found with a bounded
 * number of probes. Pure apart from the probe function and the clock it is given.
 *
 *   ramp:    start, start x g, start x g^2, ... (capped at maxRate) until a probe does not pass
 *   bisect:  geometric midpoint of [highest pass, lowest non-pass] until hi / lo - 1 <= resolution
 *   stop:    before any probe that the remaining budget cannot fit (its cost estimated as the
 *            longest probe so far, at least `probeEstimateMs`), and at once on an abort
 *
 * A probe that does not pass is either the server breaking (`fail`: an SLA or check failed) or a
 * rate the harness could not offer (`limited`: the harness overloaded itself, or the scenario
 * cannot produce that rate). Only a `fail` makes a knee; above a `limited` the answer is "at
 * least the highest pass", never a knee. A `limited` probe between two rates still narrows the
 * bracket from above (the server may yet break below it), and a `fail` under a `limited` makes a
 * real knee again.
 */

/** What one probe found. */
export type ProbeOutcome =
  | { kind: 'pass' }
  /** The server broke: the SLAs and checks that failed, in the run's words. */
  | { kind: 'fail'; broken: string[] }
  /** The rate could not be offered (harness overloaded, or the scenario cannot produce it). */
  | { kind: 'limited'; reason: string }
  /** The search cannot go on: infrastructure failed, the user interrupted, or the budget ran out mid-probe. */
  | { kind: 'abort'; cause: 'infrastructure' | 'interrupted' | 'budget'; reason: string };

/** One probe of the search, in the order run. */
export interface SearchStep {
  ratePerS: number;
  phase: 'ramp' | 'bisect';
  outcome: ProbeOutcome;
  elapsedMs: number;
}

/** Where the search ended. Exit codes: {@link exitCodeOfAnswer}. */
export type CapacityAnswer =
  /** Passed at `kneePerS`, broke at `brokeAtPerS` (the lowest failing rate); `resolved`: within the resolution. */
  | { kind: 'knee'; kneePerS: number; brokeAtPerS: number; broken: string[]; resolved: boolean }
  /** Passed at the maximum rate asked for. */
  | { kind: 'max-rate-passed'; kneePerS: number }
  /** At least `atLeastPerS`; `limitedAtPerS` could not be offered. */
  | { kind: 'limited'; atLeastPerS: number; limitedAtPerS: number; reason: string }
  /** At least `atLeastPerS`; the budget ended the search before a probe broke. */
  | { kind: 'budget'; atLeastPerS: number }
  /** Even the lowest probe failed. */
  | { kind: 'fails-at-lowest'; ratePerS: number; broken: string[] }
  /** Even the lowest probe could not be offered. */
  | { kind: 'limited-at-lowest'; ratePerS: number; reason: string }
  /** Ended by infrastructure failure or interruption; `atLeastPerS` is the highest pass, if any. */
  | { kind: 'aborted'; cause: 'infrastructure' | 'interrupted' | 'budget'; reason: string; atLeastPerS: number | null };

export interface SearchOptions {
  /** First probe's rate (msg/s), the lowest the search tries. */
  startPerS: number;
  /** Highest rate to probe (msg/s). */
  maxPerS: number;
  /** Ramp factor, default 2. */
  growth?: number;
  /** Stop bisecting when hi / lo - 1 <= this, default 0.1 (10 %). */
  resolution?: number;
  /** Time the whole search may take, ms. */
  budgetMs: number;
  /** Cost of a probe before one was measured, ms (send window + grace + setup). */
  probeEstimateMs: number;
  /** Monotonic clock, ms. */
  now: () => number;
  /** Called after each probe. */
  onStep?: (s: SearchStep) => void;
}

export interface SearchResult {
  answer: CapacityAnswer;
  steps: SearchStep[];
  /** Why no further probe ran. */
  stoppedBecause: string;
  elapsedMs: number;
}

/** Default ramp factor and resolution. */
export const DEFAULT_GROWTH = 2;
export const DEFAULT_RESOLUTION = 0.1;

/** Run the search. Never throws for a probe outcome; rethrows what `probe` throws. */
export async function searchCapacity(probe: (ratePerS: number) => Promise<ProbeOutcome>, o: SearchOptions): Promise<SearchResult> {
  const growth = o.growth ?? DEFAULT_GROWTH;
  const resolution = o.resolution ?? DEFAULT_RESOLUTION;
  if (!(o.startPerS > 0 && o.maxPerS >= o.startPerS)) throw new RangeError(`expected 0 < start (${o.startPerS}) <= max (${o.maxPerS})`);
  if (!(growth > 1)) throw new RangeError(`growth must be above 1, got ${growth}`);
  if (!(resolution > 0)) throw new RangeError(`resolution must be above 0, got ${resolution}`);
  const t0 = o.now();
  const steps: SearchStep[] = [];
  let longest = o.probeEstimateMs;
  /** Highest passing rate. */
  let lo: number | null = null;
  /** Lowest non-passing rate, and what it was. */
  let hi: { ratePerS: number; outcome: Extract<ProbeOutcome, { kind: 'fail' | 'limited' }> } | null = null;

  const fits = () => o.now() - t0 + longest <= o.budgetMs;
  const run = async (ratePerS: number, phase: SearchStep['phase']): Promise<ProbeOutcome> => {
    const start = o.now();
    const outcome = await probe(ratePerS);
    const step: SearchStep = { ratePerS, phase, outcome, elapsedMs: o.now() - start };
    longest = Math.max(longest, step.elapsedMs);
    steps.push(step);
    o.onStep?.(step);
    if (outcome.kind === 'pass') lo = lo === null ? ratePerS : Math.max(lo, ratePerS);
    else if (outcome.kind === 'fail' || outcome.kind === 'limited') {
      if (hi === null || ratePerS <= hi.ratePerS) hi = { ratePerS, outcome };
    }
    return outcome;
  };
  const end = (stoppedBecause: string, abort?: Extract<ProbeOutcome, { kind: 'abort' }>): SearchResult => ({
    answer: answerOf(lo, hi, resolution, o.maxPerS, abort),
    steps,
    stoppedBecause,
    elapsedMs: o.now() - t0,
  });
  const noTime = () => `the budget (${o.budgetMs} ms) cannot fit another probe of about ${Math.round(longest)} ms`;

  // ---------------------------------------------------------------- ramp
  for (let rate = o.startPerS; ; rate = Math.min(rate * growth, o.maxPerS)) {
    if (!fits()) return end(noTime());
    const out = await run(rate, 'ramp');
    if (out.kind === 'abort') return end(`probe at ${fmtRate(rate)} msg/s: ${out.reason}`, out);
    if (out.kind !== 'pass') break;
    if (rate >= o.maxPerS) return end(`passed at the maximum rate ${fmtRate(o.maxPerS)} msg/s`);
  }
  // ---------------------------------------------------------------- bisect
  for (;;) {
    const l = lo as number | null;
    const h = hi as { ratePerS: number } | null;
    if (l === null || h === null) return end('the lowest probe did not pass');
    if (h.ratePerS / l - 1 <= resolution) return end(`the bracket ${fmtRate(l)}–${fmtRate(h.ratePerS)} msg/s is within ${Math.round(resolution * 100)} %`);
    if (!fits()) return end(noTime());
    const mid = Math.sqrt(l * h.ratePerS);
    const out = await run(mid, 'bisect');
    if (out.kind === 'abort') return end(`probe at ${fmtRate(mid)} msg/s: ${out.reason}`, out);
  }
}

function answerOf(
  lo: number | null,
  hi: { ratePerS: number; outcome: Extract<ProbeOutcome, { kind: 'fail' | 'limited' }> } | null,
  resolution: number,
  maxPerS: number,
  abort: Extract<ProbeOutcome, { kind: 'abort' }> | undefined,
): CapacityAnswer {
  if (abort && (abort.cause !== 'budget' || lo === null)) return { kind: 'aborted', cause: abort.cause, reason: abort.reason, atLeastPerS: lo };
  if (lo === null) {
    if (hi === null) return { kind: 'aborted', cause: 'budget', reason: 'no probe ran', atLeastPerS: null };
    return hi.outcome.kind === 'fail'
      ? { kind: 'fails-at-lowest', ratePerS: hi.ratePerS, broken: hi.outcome.broken }
      : { kind: 'limited-at-lowest', ratePerS: hi.ratePerS, reason: hi.outcome.reason };
  }
  if (hi === null) return lo >= maxPerS ? { kind: 'max-rate-passed', kneePerS: lo } : { kind: 'budget', atLeastPerS: lo };
  if (hi.outcome.kind === 'limited') return { kind: 'limited', atLeastPerS: lo, limitedAtPerS: hi.ratePerS, reason: hi.outcome.reason };
  // Every probe of the bisection lies below `hi`, so `hi` is the lowest rate that broke.
  return { kind: 'knee', kneePerS: lo, brokeAtPerS: hi.ratePerS, broken: hi.outcome.broken, resolved: hi.ratePerS / lo - 1 <= resolution };
}

/** Exit code of an answer: 0 a knee (or the maximum, or a lower bound), 1 even the lowest failed, 3 infrastructure or harness at the lowest. */
export function exitCodeOfAnswer(a: CapacityAnswer): 0 | 1 | 3 {
  switch (a.kind) {
    case 'knee':
    case 'max-rate-passed':
    case 'limited':
    case 'budget':
      return 0;
    case 'fails-at-lowest':
      return 1;
    case 'limited-at-lowest':
    case 'aborted':
      return 3;
  }
}

/** A rate for messages: 3 significant digits. */
export function fmtRate(r: number): string {
  return r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r.toFixed(2);
}
