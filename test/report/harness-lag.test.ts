/**
 * Every report prints the harness lag beside its delay table and marks each inflated figure; a
 * summary without the figures says "not measured". The rule itself: test/check/harness-lag.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { summarize } from '../../src/cli/summarize.ts';
import { renderConsole, renderMarkdown } from '../../src/report/text.ts';
import { renderHtml } from '../../src/report/html.ts';
import type { CheckResult, Verdict } from '../../src/check/index.ts';
import type { LatencySummary } from '../../src/stats/hdr.ts';
import type { SelfReport } from '../../src/run/self-monitor.ts';

const check = (name: string): CheckResult => ({ name, status: 'pass', count: 0, witnesses: [] });
const latency = (p50Ms: number, p99Ms: number): LatencySummary => ({ count: 100, p50Ms, p90Ms: p99Ms, p95Ms: p99Ms, p99Ms, p999Ms: p99Ms, maxMs: p99Ms, meanMs: p50Ms });
const verdict: Verdict = {
  checks: Object.fromEntries(['loss', 'duplicates', 'ordering'].map((n) => [n, check(n)])),
  metrics: { delivery: latency(259, 742), ack: latency(120, 400) },
};
const self = (combinedP99Ms: number): SelfReport => ({
  worstEventLoopP99Ms: 0,
  worstSenderLagP99Ms: 0,
  senderLagMaxMs: 0,
  overloaded: null,
  lag: { senderLag: latency(1, combinedP99Ms), eventLoopDelay: latency(0.1, 1), combined: latency(1.2, combinedP99Ms) },
});
const summaryOf = (harness: (SelfReport & { events: number }) | null, allowHarnessLag = false) =>
  summarize({
    verdict,
    slas: [],
    infraError: null,
    run: { runId: 'r1', scenario: 'demo', seed: 1, startedAt: null, endReason: 'complete' },
    harness,
    target: null,
    toxiproxy: null,
    faults: [],
    allowHarnessLag,
  });

describe('harness lag in the reports', () => {
  it('prints the lag and its limits beside the delay table when it is not material, marking nothing', () => {
    const s = summaryOf({ ...self(20), events: 10 });
    expect(s.verdict).toBe('pass');
    const text = renderConsole(s);
    expect(text).toContain('harness lag (added by chatstorm to a delivery): p50 1.2ms, p99 20ms');
    expect(text).toContain("limits p50 26ms, p99 74ms: not material");
    expect(text).not.toContain('inflated');
  });

  it('marks every delay figure in console, Markdown and HTML when the lag is material and allowed', () => {
    const s = summaryOf({ ...self(490), events: 10 }, true);
    expect(s.verdict).toBe('pass');
    expect(s.harnessLag?.inflated).toEqual(['delivery', 'ack']);
    const text = renderConsole(s);
    expect(text.split('\n').filter((l) => l.includes('(inflated by harness lag up to 490ms)'))).toHaveLength(2);
    expect(text).toContain('MATERIAL (allowed by --allow-harness-lag)');
    const md = renderMarkdown(s);
    expect(md).toContain('| delivery ⚠️ inflated by harness lag up to 490ms |');
    expect(md).toContain('| ack ⚠️ inflated by harness lag up to 490ms |');
    expect(renderHtml(s, { delay: [], series: null })).toContain('<td>delivery <strong>(inflated by harness lag up to 490 ms)</strong></td>');
  });

  it('says the run is an error because of the harness when the lag is material and not allowed', () => {
    const s = summaryOf({ ...self(490), events: 10 });
    expect(s.verdict).toBe('error');
    expect(renderConsole(s)).toContain("MATERIAL: the delays are partly the harness's own, so the run is an error");
    expect(renderMarkdown(s)).toContain("- the harness's own lag is a material part of the delays it measured");
  });

  it('says how much of the time the harness waited for a CPU, where it was measured', () => {
    const base = self(20);
    const s = summaryOf({ ...base, lag: { ...base.lag!, cpu: { wallMs: 10_000, onCpuMs: 4_000, waitedMs: 812 } }, events: 10 });
    expect(s.harnessLag?.waitedForCpuShare).toBe(0.081);
    expect(renderConsole(s)).toContain('limits p50 26ms, p99 74ms; waited for a CPU 8.1 % of the time: not material');
    expect(renderConsole(summaryOf({ ...base, events: 10 }))).not.toContain('waited for a CPU');
  });

  it('says "not measured" for a summary without the figures (written before they existed)', () => {
    const s = summaryOf(null);
    expect(s.harnessLag).toBeNull();
    expect(renderConsole(s)).toContain('harness lag: not measured');
  });
});
