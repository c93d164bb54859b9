import { describe, expect, it } from 'vitest';
import { exitCodeOfAnswer, searchCapacity, type ProbeOutcome, type SearchOptions } from '../../src/capacity/search.ts';

/** A fake server: passes up to `limit` msg/s, each probe costs `costMs` on a fake clock. */
function fake(opts: { limit: number; costMs?: number; harnessCeiling?: number; infraAt?: number; failFirst?: string[] }) {
  let clock = 0;
  const rates: number[] = [];
  const probe = async (rate: number): Promise<ProbeOutcome> => {
    rates.push(rate);
    clock += opts.costMs ?? 10_000;
    if (opts.infraAt !== undefined && rate >= opts.infraAt) return { kind: 'abort', cause: 'infrastructure', reason: 'chat server at ws://127.0.0.1:1 is unreachable' };
    if (opts.harnessCeiling !== undefined && rate > opts.harnessCeiling) return { kind: 'limited', reason: 'harness overloaded: sender lag p99 1500 ms' };
    if (rate > opts.limit) return { kind: 'fail', broken: opts.failFirst ?? ['SLA delivery.p99 < 1s failed: actual 2400'] };
    return { kind: 'pass' };
  };
  const options = (o: Partial<SearchOptions> = {}): SearchOptions => ({
    startPerS: 10,
    maxPerS: 10_000,
    budgetMs: 600_000,
    probeEstimateMs: 10_000,
    now: () => clock,
    ...o,
  });
  return { probe, options, rates, elapsed: () => clock };
}

describe('searchCapacity', () => {
  it('ramps up geometrically, then bisects to within the resolution of the limit', async () => {
    const f = fake({ limit: 137 });
    const r = await searchCapacity(f.probe, f.options());
    expect(f.rates.slice(0, 5)).toEqual([10, 20, 40, 80, 160]);
    expect(r.steps.slice(0, 5).every((s) => s.phase === 'ramp')).toBe(true);
    expect(r.steps.slice(5).every((s) => s.phase === 'bisect')).toBe(true);
    expect(r.answer.kind).toBe('knee');
    if (r.answer.kind !== 'knee') return;
    expect(r.answer.kneePerS).toBeLessThanOrEqual(137);
    expect(r.answer.brokeAtPerS).toBeGreaterThan(137);
    expect(r.answer.brokeAtPerS / r.answer.kneePerS - 1).toBeLessThanOrEqual(0.1);
    expect(r.answer.resolved).toBe(true);
    expect(r.answer.broken).toEqual(['SLA delivery.p99 < 1s failed: actual 2400']);
    expect(exitCodeOfAnswer(r.answer)).toBe(0);
    expect(r.stoppedBecause).toMatch(/within 10 %/);
  });

  it('bisects each bracket at its geometric midpoint', async () => {
    const f = fake({ limit: 137 });
    await searchCapacity(f.probe, f.options());
    expect(f.rates[5]).toBeCloseTo(Math.sqrt(80 * 160), 9);
  });

  it('honours a finer resolution with more probes', async () => {
    const coarse = fake({ limit: 137 });
    const fine = fake({ limit: 137 });
    await searchCapacity(coarse.probe, coarse.options({ resolution: 0.1 }));
    const r = await searchCapacity(fine.probe, fine.options({ resolution: 0.02 }));
    expect(fine.rates.length).toBeGreaterThan(coarse.rates.length);
    if (r.answer.kind !== 'knee') throw new Error(r.answer.kind);
    expect(r.answer.brokeAtPerS / r.answer.kneePerS - 1).toBeLessThanOrEqual(0.02);
  });

  it('stops at the maximum rate when it passes there, probing it exactly', async () => {
    const f = fake({ limit: 1000 });
    const r = await searchCapacity(f.probe, f.options({ maxPerS: 100 }));
    expect(f.rates).toEqual([10, 20, 40, 80, 100]);
    expect(r.answer).toEqual({ kind: 'max-rate-passed', kneePerS: 100 });
    expect(exitCodeOfAnswer(r.answer)).toBe(0);
  });

  it('never starts a probe the budget cannot fit, and answers with the lower bound it has', async () => {
    const f = fake({ limit: 1000, costMs: 10_000 });
    const r = await searchCapacity(f.probe, f.options({ budgetMs: 35_000 }));
    expect(f.rates).toEqual([10, 20, 40]);
    expect(f.elapsed()).toBeLessThanOrEqual(35_000);
    expect(r.answer).toEqual({ kind: 'budget', atLeastPerS: 40 });
    expect(r.stoppedBecause).toMatch(/budget/);
    expect(exitCodeOfAnswer(r.answer)).toBe(0);
  });

  it('estimates a probe as the longest one so far, not the initial guess', async () => {
    // The initial guess (1 s) is far too low; after the first 20 s probe only one more fits in 50 s.
    const f = fake({ limit: 1000, costMs: 20_000 });
    const r = await searchCapacity(f.probe, f.options({ budgetMs: 50_000, probeEstimateMs: 1000 }));
    expect(f.rates).toEqual([10, 20]);
    expect(r.elapsedMs).toBeLessThanOrEqual(50_000);
  });

  it('leaves a bracket unresolved when the budget ends the bisection', async () => {
    const f = fake({ limit: 137 });
    const r = await searchCapacity(f.probe, f.options({ budgetMs: 60_000 }));
    expect(f.rates).toHaveLength(6);
    expect(r.answer).toMatchObject({ kind: 'knee', resolved: false, brokeAtPerS: 160 });
    if (r.answer.kind === 'knee') expect(r.answer.kneePerS).toBeCloseTo(Math.sqrt(80 * 160), 9);
  });

  it('answers "at least" the highest pass when the harness saturates, never a knee', async () => {
    const f = fake({ limit: 1000, harnessCeiling: 50 });
    const r = await searchCapacity(f.probe, f.options());
    expect(r.answer.kind).toBe('limited');
    if (r.answer.kind !== 'limited') return;
    expect(r.answer.atLeastPerS).toBeLessThanOrEqual(50);
    expect(r.answer.limitedAtPerS).toBeGreaterThan(50);
    expect(r.answer.limitedAtPerS / r.answer.atLeastPerS - 1).toBeLessThanOrEqual(0.1);
    expect(r.answer.reason).toMatch(/harness overloaded/);
    expect(r.steps.some((s) => s.outcome.kind === 'fail')).toBe(false);
    expect(exitCodeOfAnswer(r.answer)).toBe(0);
  });

  it('finds a real knee below the harness ceiling when the server breaks first during the bisection', async () => {
    // The ramp jumps from a pass at 40 to a harness limit at 80 (steps[3]); the server breaks at 55.
    const f = fake({ limit: 55, harnessCeiling: 70 });
    const r = await searchCapacity(f.probe, f.options());
    expect(r.steps[3]?.outcome.kind).toBe('limited');
    expect(r.answer.kind).toBe('knee');
    if (r.answer.kind !== 'knee') return;
    expect(r.answer.kneePerS).toBeLessThanOrEqual(55);
    expect(r.answer.brokeAtPerS).toBeGreaterThan(55);
  });

  it('exits 1 when even the lowest probe fails, naming what broke', async () => {
    const f = fake({ limit: 5, failFirst: ['check loss failed: 3 anomalies'] });
    const r = await searchCapacity(f.probe, f.options());
    expect(f.rates).toEqual([10]);
    expect(r.answer).toEqual({ kind: 'fails-at-lowest', ratePerS: 10, broken: ['check loss failed: 3 anomalies'] });
    expect(exitCodeOfAnswer(r.answer)).toBe(1);
  });

  it('exits 3 when the harness cannot offer even the lowest rate', async () => {
    const f = fake({ limit: 1000, harnessCeiling: 5 });
    const r = await searchCapacity(f.probe, f.options());
    expect(r.answer).toMatchObject({ kind: 'limited-at-lowest', ratePerS: 10 });
    expect(exitCodeOfAnswer(r.answer)).toBe(3);
  });

  it('ends at once with exit 3 on an infrastructure failure, keeping the lower bound found', async () => {
    const f = fake({ limit: 1000, infraAt: 40 });
    const r = await searchCapacity(f.probe, f.options());
    expect(f.rates).toEqual([10, 20, 40]);
    expect(r.answer).toEqual({ kind: 'aborted', cause: 'infrastructure', reason: 'chat server at ws://127.0.0.1:1 is unreachable', atLeastPerS: 20 });
    expect(exitCodeOfAnswer(r.answer)).toBe(3);
  });

  it('treats a probe cut by the budget as the end of the budget, not as a failure', async () => {
    let clock = 0;
    const probe = async (rate: number): Promise<ProbeOutcome> => {
      clock += 10_000;
      return rate < 40 ? { kind: 'pass' } : { kind: 'abort', cause: 'budget', reason: 'the budget ran out during the probe' };
    };
    const r = await searchCapacity(probe, { startPerS: 10, maxPerS: 1000, budgetMs: 600_000, probeEstimateMs: 1, now: () => clock });
    expect(r.answer).toEqual({ kind: 'budget', atLeastPerS: 20 });
  });

  it('refuses a start above the maximum', async () => {
    const f = fake({ limit: 10 });
    await expect(searchCapacity(f.probe, f.options({ startPerS: 20, maxPerS: 10 }))).rejects.toThrow(RangeError);
  });

  it('reports each step once, in order, to onStep', async () => {
    const f = fake({ limit: 137 });
    const seen: number[] = [];
    const r = await searchCapacity(f.probe, f.options({ onStep: (s) => seen.push(s.ratePerS) }));
    expect(seen).toEqual(r.steps.map((s) => s.ratePerS));
    expect(seen).toEqual(f.rates);
  });
});
