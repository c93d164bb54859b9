/**
 * The harness-lag rule (src/check/gate.ts) on literal figures: the rows of issue 15's table, the
 * floor, the SLA term, the p50 term, allowing it, and a check failure harness lag cannot cause.
 */
import { describe, expect, it } from 'vitest';
import { exitCodeOf, gate, weighHarnessLag, type CheckResult, type HarnessLagInput, type Verdict } from '../../src/check/index.ts';
import { parseSla } from '../../src/check/sla.ts';
import type { LatencySummary } from '../../src/stats/hdr.ts';

const check = (name: string, status: CheckResult['status'] = 'pass', count = 0): CheckResult => ({ name, status, count, witnesses: [] });
const latency = (p50Ms: number, p99Ms: number, count = 1000): LatencySummary => ({ count, p50Ms, p90Ms: p99Ms, p95Ms: p99Ms, p99Ms, p999Ms: p99Ms, maxMs: p99Ms, meanMs: p50Ms });
const verdictWith = (metrics: Record<string, LatencySummary>, failed: string[] = []): Verdict => ({
  checks: Object.fromEntries(['loss', 'duplicates', 'ordering', 'sync'].map((n) => [n, check(n, failed.includes(n) ? 'fail' : 'pass', failed.includes(n) ? 1 : 0)])),
  metrics,
});
/** Harness lag with the combined (per-delivery) figures given directly. */
const lagOf = (p50Ms: number, p99Ms: number, senderP99Ms = p99Ms, loopP99Ms = 0): HarnessLagInput => ({
  senderLag: { count: 1000, p50Ms: 0, p99Ms: senderP99Ms },
  eventLoopDelay: { count: 1000, p50Ms: 0, p99Ms: loopP99Ms },
  combined: { p50Ms, p99Ms },
});
const SLAS = [parseSla('loss == 0'), parseSla('delivery.p99 < 3s')];
const run = (lag: HarnessLagInput | null, metrics: Record<string, LatencySummary>, o: { slas?: typeof SLAS; allow?: boolean; failed?: string[] } = {}) =>
  gate({ verdict: verdictWith(metrics, o.failed), slas: o.slas ?? SLAS, infraError: null, endReason: 'complete', harnessLag: lag, allowHarnessLag: o.allow ?? false });

describe('harness lag: the rows of issue 15', () => {
  it('8,000 msg/s (lag p99 490 ms against delivery 259 / 742 ms) is an error naming the harness, not a pass', () => {
    const g = run(lagOf(200, 490), { delivery: latency(259, 742) });
    expect(g.harnessLag).toMatchObject({ material: true, limitP99Ms: 74.2, against: 'delivery' });
    expect(g.verdict).toBe('error');
    expect(exitCodeOf(g.verdict)).toBe(3);
    expect(g.error).toMatch(/^the harness's own lag is a material part of the delays it measured: .*p99 490 ms \(limit 74\.2/);
    expect(g.reasons).toEqual([g.error]);
  });

  it('1,000 msg/s behind a 100 ms toxic (lag p99 6 ms against delivery 100.7 / 110 ms) passes: not material', () => {
    const g = run(lagOf(0.5, 6), { delivery: latency(100.7, 110) });
    expect(g.harnessLag).toMatchObject({ material: false, limitP50Ms: 10.07, limitP99Ms: 11, inflated: [] });
    expect(g.verdict).toBe('pass');
  });

  it('5,250 msg/s behind a 100 ms toxic (lag p99 70 ms against delivery 106.8 / 221 ms) is an error', () => {
    const g = run(lagOf(1, 70), { delivery: latency(106.8, 221) });
    expect(g.harnessLag).toMatchObject({ material: true, limitP99Ms: 22.1 });
    expect(g.verdict).toBe('error');
  });
});

describe('harness lag: the limits', () => {
  it('never calls lag under the 5 ms floor material, however fast the server', () => {
    expect(run(lagOf(1, 4.9), { delivery: latency(0.8, 2) }).harnessLag?.material).toBe(false);
    expect(run(lagOf(1, 5.1), { delivery: latency(0.8, 2) }).harnessLag?.material).toBe(true);
  });

  it('weighs the median on its own: a late median is material even under a slow tail', () => {
    const g = run(lagOf(30, 40), { delivery: latency(100, 2000) });
    expect(g.harnessLag).toMatchObject({ material: true, limitP50Ms: 10, limitP99Ms: 200 });
  });

  it('takes 10 % of the smallest delay SLA when it is below the delay measured: the lag could flip that SLA', () => {
    const slas = [parseSla('delivery.p99 < 100ms'), parseSla('ack.p50 <= 2s'), parseSla('loss == 0')];
    const g = run(lagOf(1, 20), { delivery: latency(60, 400) }, { slas });
    expect(g.harnessLag).toMatchObject({ material: true, smallestSlaMs: 100, limitP50Ms: 6, limitP99Ms: 10 });
    expect(g.verdict).toBe('error');
  });

  it('weighs against ack delays when nothing was delivered, and not at all when nothing was timed', () => {
    expect(run(lagOf(1, 20), { ack: latency(50, 100) }).harnessLag).toMatchObject({ against: 'ack', material: true });
    const none = run(lagOf(1, 20), {}, { slas: [parseSla('loss == 0')] });
    expect(none.harnessLag).toMatchObject({ against: null, material: false });
    expect(none.verdict).toBe('pass');
  });

  it('adds sender lag and event-loop delay when a summary has no combined figure (an upper bound)', () => {
    const f = weighHarnessLag(
      { senderLag: { count: 10, p50Ms: 1, p99Ms: 8 }, eventLoopDelay: { count: 10, p50Ms: 0.5, p99Ms: 7 } },
      verdictWith({ delivery: latency(100, 120) }),
      [],
      false,
    );
    expect(f).toMatchObject({ p50Ms: 1.5, p99Ms: 15, limitP99Ms: 12, material: true });
  });

  it('is not weighed when it was not measured', () => {
    const g = run(null, { delivery: latency(1, 2) });
    expect(g.harnessLag).toBeNull();
    expect(g.verdict).toBe('pass');
  });
});

describe('harness lag: what the verdict becomes', () => {
  it('when allowed, keeps the verdict and names every latency figure as inflated', () => {
    const g = run(lagOf(200, 490), { delivery: latency(259, 742), ack: latency(100, 300), connect: latency(0, 0, 0) }, { allow: true });
    expect(g.verdict).toBe('pass');
    expect(g.error).toBeNull();
    expect(g.harnessLag).toMatchObject({ material: true, allowed: true, inflated: ['delivery', 'ack'] });
  });

  it('keeps a fail on a check the lag cannot cause (loss), marking the figures', () => {
    const g = run(lagOf(200, 490), { delivery: latency(259, 742) }, { failed: ['loss'] });
    expect(g.verdict).toBe('fail');
    expect(g.reasons).toEqual(['check loss failed: 1 anomaly', 'SLA loss == 0 failed: actual 1']);
    expect(g.harnessLag?.inflated).toEqual(['delivery']);
  });

  it('turns a fail that rests on timing (sync, a delay SLA) into an error naming the harness', () => {
    const g = run(lagOf(200, 490), { delivery: latency(259, 742) }, { failed: ['sync'], slas: [parseSla('delivery.p99 < 500ms')] });
    expect(g.verdict).toBe('error');
    expect(g.reasons[0]).toMatch(/^the harness's own lag/);
  });

  it('keeps an earlier end (overload) as the error', () => {
    const g = gate({ verdict: verdictWith({ delivery: latency(259, 742) }), slas: SLAS, infraError: 'the harness was the bottleneck for 3 s', endReason: 'harness-overloaded', harnessLag: lagOf(200, 490) });
    expect(g.error).toBe('the harness was the bottleneck for 3 s');
  });
});

describe('harness lag: waiting for a CPU', () => {
  const withCpu = (lag: HarnessLagInput, wallMs: number, waitedMs: number): HarnessLagInput => ({ ...lag, cpu: { wallMs, waitedMs } });

  it('says the machine is the likelier cause when the harness waited for a CPU 5 % of the time or more', () => {
    const g = run(withCpu(lagOf(2, 20), 12_600, 1_000), { delivery: latency(1.5, 9) });
    expect(g.harnessLag).toMatchObject({ material: true, waitedForCpuShare: 0.079 });
    expect(g.error).toMatch(/ Its main thread waited for a CPU 7\.9 % of the time it measured: other processes on this machine \(the server, the proxy, other runs\) had the cores it needed/);
  });

  it('gives the usual advice alone below 5 %, and when the wait was not measured', () => {
    const below = run(withCpu(lagOf(2, 20), 12_600, 500), { delivery: latency(1.5, 9) });
    expect(below.harnessLag?.waitedForCpuShare).toBe(0.04);
    expect(below.error).toMatch(/--allow-harness-lag to report the inflated figures as such\.$/);
    const unknown = run({ ...lagOf(2, 20), cpu: null }, { delivery: latency(1.5, 9) });
    expect(unknown.harnessLag?.waitedForCpuShare).toBeNull();
    expect(unknown.error).not.toContain('waited for a CPU');
    expect(run(lagOf(2, 20), { delivery: latency(1.5, 9) }).harnessLag?.waitedForCpuShare).toBeNull();
  });

  it('does not make a lag material: the share is advice, the limits decide', () => {
    const g = run(withCpu(lagOf(0.5, 3), 10_000, 5_000), { delivery: latency(1.5, 9) });
    expect(g.harnessLag).toMatchObject({ material: false, waitedForCpuShare: 0.5 });
    expect(g.verdict).toBe('pass');
  });
});
