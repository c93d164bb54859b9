import { describe, expect, it } from 'vitest';
import { classify, type ProbeFigures } from '../../src/capacity/probe.ts';
import { headlineOf, renderCapacityConsole, type CapacityReport } from '../../src/capacity/report.ts';
import { capacityChartData, renderCapacityHtml } from '../../src/report/capacity-html.ts';

const summary = (o: Partial<{ reasons: string[]; endReason: string; error: string | null; overloaded: string | null }> = {}) => ({
  reasons: o.reasons ?? [],
  endReason: o.endReason ?? 'complete',
  error: o.error ?? null,
  harness: { worstEventLoopP99Ms: 1, worstSenderLagP99Ms: 1, senderLagMaxMs: 1, overloaded: o.overloaded ?? null, events: 10 },
});

describe('classify', () => {
  it('reads exit 0 as a pass and exit 1 as the server breaking, with its reasons', () => {
    expect(classify({ exitCode: 0, summary: summary() }, null)).toEqual({ kind: 'pass' });
    expect(classify({ exitCode: 1, summary: summary({ reasons: ['SLA loss == 0 failed: actual 3'] }) }, null)).toEqual({ kind: 'fail', broken: ['SLA loss == 0 failed: actual 3'] });
  });

  it('reads a harness overload as a rate that could not be offered, not as the server breaking', () => {
    const s = summary({ endReason: 'harness-overloaded', error: 'harness overloaded: sender lag p99 1800 ms > 1000 ms for 3 windows', overloaded: 'sender lag' });
    expect(classify({ exitCode: 3, summary: s }, null)).toEqual({ kind: 'limited', reason: 'the harness overloaded itself: harness overloaded: sender lag p99 1800 ms > 1000 ms for 3 windows' });
  });

  it('reads material harness lag (not allowed) as a rate the harness could not measure honestly, not as a knee', () => {
    const lag = { p50Ms: 1, p99Ms: 9, senderLagP99Ms: 5, eventLoopDelayP99Ms: 4, against: 'delivery', smallestSlaMs: null, limitP50Ms: 5, limitP99Ms: 5, material: true, allowed: false, inflated: ['delivery'] };
    const s = { ...summary({ error: "the harness's own lag is a material part of the delays it measured" }), harnessLag: lag };
    expect(classify({ exitCode: 3, summary: s }, null)).toEqual({ kind: 'limited', reason: "the harness's own lag inflated the delays: the harness's own lag is a material part of the delays it measured" });
  });

  it('reads any other exit 3 as an infrastructure failure that ends the search', () => {
    const s = summary({ endReason: 'error', error: 'chat server at ws://127.0.0.1:1 is unreachable.' });
    expect(classify({ exitCode: 3, summary: s }, null)).toEqual({ kind: 'abort', cause: 'infrastructure', reason: 'chat server at ws://127.0.0.1:1 is unreachable.' });
  });

  it('reads a probe it stopped itself as interrupted or out of budget, whatever the run said', () => {
    const s = summary({ endReason: 'interrupted', error: 'interrupted' });
    expect(classify({ exitCode: 3, summary: s }, 'budget')).toMatchObject({ kind: 'abort', cause: 'budget' });
    expect(classify({ exitCode: 1, summary: s }, 'interrupted')).toMatchObject({ kind: 'abort', cause: 'interrupted' });
  });
});

const probe = (i: number, rate: number, verdict: ProbeFigures['verdict'], p99: number | null, failedSlas: string[] = []): ProbeFigures & { phase: 'ramp' | 'bisect' } => ({
  index: i,
  phase: i > 2 ? 'bisect' : 'ramp',
  targetPerS: rate,
  offeredPerS: rate * 1.01,
  plannedSends: 100,
  plannedPerS: rate * 0.9,
  sent: 99,
  customers: 10,
  achievedSendPerS: rate * 0.88,
  deliveredPerS: rate,
  deliveryP50Ms: p99 === null ? null : 3,
  deliveryP99Ms: p99,
  ackP99Ms: p99,
  verdict,
  exitCode: verdict === 'pass' ? 0 : verdict === 'fail' ? 1 : null,
  reasons: failedSlas.map((s) => `SLA ${s} failed: actual 900`),
  failedSlas,
  failedChecks: [],
  runDir: p99 === null ? null : `/r/cap/probe-0${i}`,
  elapsedMs: 7000,
});

const report: CapacityReport = {
  schema: 1,
  kind: 'chatstorm-capacity',
  runId: 'cap',
  scenario: 'throttled',
  seed: 3,
  startedAt: '2026-01-01T00:00:00.000Z',
  target: null,
  options: { startPerS: 40, maxPerS: 2560, growth: 2, resolution: 0.1, budgetMs: 600_000, probeDurationMs: 4000, probeGraceMs: 3000, sla: ['delivery.p99 < 250ms'] },
  answer: { kind: 'knee', kneePerS: 80, brokeAtPerS: 87.2, broken: ['SLA delivery.p99 < 250ms failed: actual 313'], resolved: true },
  headline: '',
  stoppedBecause: 'the bracket 80.0–87.2 msg/s is within 10 %',
  elapsedMs: 39_000,
  exitCode: 0,
  probes: [probe(1, 40, 'pass', 4), probe(2, 160, 'fail', 5200, ['delivery.p99 < 250ms']), probe(3, 80, 'pass', 5), probe(4, 87.2, 'fail', 313, ['delivery.p99 < 250ms']), probe(5, 84, 'limited', null)],
};
report.headline = headlineOf(report.answer);

describe('capacity report', () => {
  it('says the knee, the rate that broke and what broke first in one line', () => {
    expect(report.headline).toBe('knee: passes at 80.0 msg/s, breaks at 87.2 msg/s; first broken: SLA delivery.p99 < 250ms failed: actual 313');
    expect(headlineOf({ kind: 'limited', atLeastPerS: 50, limitedAtPerS: 55, reason: 'the harness overloaded itself: lag' })).toBe(
      'at least 50.0 msg/s: 55.0 msg/s could not be offered (the harness overloaded itself: lag); no knee found below it',
    );
  });

  it('prints one row per probe in the order run, with its verdict and what failed', () => {
    const text = renderCapacityConsole(report);
    const rows = text.split('\n').filter((l) => /^\d /.test(l));
    expect(rows).toHaveLength(5);
    expect(rows[1]).toMatch(/^2\s+ramp\s+160\s+162\s+141 \(99%\)\s+3ms\s+5\.20s\s+5\.20s\s+FAIL\s+delivery\.p99 < 250ms$/);
    expect(rows[4]).toMatch(/LIMITED/);
    expect(text).toContain(report.headline);
    expect(text).toContain('stopped: the bracket 80.0–87.2 msg/s is within 10 %');
  });

  it('charts the probes that ran, sorted by offered rate', () => {
    const d = capacityChartData(report);
    expect(d.offeredPerS).toEqual([40, 80, 87.2, 160].map((r) => r * 1.01));
    expect(d.p99Ms).toEqual([4, 5, 313, 5200]);
    expect(d.verdict).toEqual(['pass', 'pass', 'fail', 'fail']);
  });

  it('renders a self-contained page: uPlot inlined, no external fetches, links to each probe report', () => {
    const html = renderCapacityHtml(report, '/r/cap');
    expect(html).toContain('data-chart="capacity"');
    expect(html).toMatch(/uPlot/);
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
    expect(html).toContain('<a href="probe-01/report.html">report</a>');
    expect(html).toContain('knee: passes at 80.0 msg/s');
    // Text from the run is escaped.
    const evil = renderCapacityHtml({ ...report, scenario: '<img src=x>' }, '/r/cap');
    expect(evil).not.toContain('<img src=x>');
  });
});
