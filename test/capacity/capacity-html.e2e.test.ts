/**
 * capacity.html in headless Chromium: the page loads from disk without errors or network
 * requests, and the chart of delay against rate draws.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { ensureChromium, openWatched } from '../report/chromium.ts';
import { headlineOf, type CapacityReport } from '../../src/capacity/report.ts';
import { renderCapacityHtml } from '../../src/report/capacity-html.ts';

const probe = (index: number, rate: number, p99: number, verdict: 'pass' | 'fail') => ({
  index, phase: 'ramp' as const, targetPerS: rate, offeredPerS: rate, plannedSends: rate * 4, plannedPerS: rate, sent: rate * 4, customers: rate / 4,
  achievedSendPerS: rate, deliveredPerS: rate, deliveryP50Ms: 3, deliveryP99Ms: p99, ackP99Ms: p99 / 2, verdict, exitCode: verdict === 'pass' ? 0 : 1,
  reasons: [], failedSlas: verdict === 'fail' ? ['delivery.p99 < 250ms'] : [], failedChecks: [], runDir: `DIR/probe-0${index}`, elapsedMs: 6000,
});

describe('capacity.html in headless Chromium', () => {
  let out: string;
  let browser: Browser;
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'chatstorm-capacity-html-'));
    browser = await chromium.launch({ executablePath: ensureChromium(), args: ['--no-sandbox'] });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    if (out) await rm(out, { recursive: true, force: true });
  });

  it('loads without errors or fetches and draws the chart of delay against rate', async () => {
    const answer = { kind: 'knee' as const, kneePerS: 80, brokeAtPerS: 87, broken: ['SLA delivery.p99 < 250ms failed: actual 313'], resolved: true };
    const rep: CapacityReport = {
      schema: 1, kind: 'chatstorm-capacity', runId: 'cap', scenario: 'throttled', seed: 3, startedAt: '2026-01-01T00:00:00Z', target: null,
      options: { startPerS: 40, maxPerS: 2560, growth: 2, resolution: 0.1, budgetMs: 600_000, probeDurationMs: 4000, probeGraceMs: 3000, sla: ['delivery.p99 < 250ms'] },
      answer, headline: headlineOf(answer), stoppedBecause: 'within 10 %', elapsedMs: 30_000, exitCode: 0,
      probes: [probe(1, 40, 4, 'pass'), probe(2, 80, 5, 'pass'), probe(3, 160, 5200, 'fail'), probe(4, 87, 313, 'fail')].map((p) => ({ ...p, runDir: p.runDir.replace('DIR', out) })),
    };
    const file = join(out, 'capacity.html');
    await writeFile(file, renderCapacityHtml(rep, out));
    const { page, errors, fetched } = await openWatched(browser, file);
    await page.waitForSelector('body[data-charts-drawn]', { timeout: 20_000 });
    expect(await page.getAttribute('body', 'data-charts-drawn')).toBe('1');
    expect(await page.$$eval('.chart[data-chart="capacity"] canvas', (c) => c.length)).toBe(1);
    expect(await page.$$eval('.u-legend .u-series', (els) => els.length)).toBe(4);
    expect(errors).toEqual([]);
    expect(fetched).toEqual([]);
  }, 60_000);
});
