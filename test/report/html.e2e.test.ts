/**
 * report.html in a real browser: a run with a server defect (so there are anomalies) and a fault,
 * opened from disk in headless Chromium. The page must load without console errors or network
 * requests, every chart must have drawn coloured pixels, and a screenshot is kept under
 * test-results/.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { runScenario, type RunScenarioResult } from '../../src/cli/run-command.ts';
import { checkRun } from '../../src/cli/check-command.ts';
import { ensureChromium, openWatched } from './chromium.ts';
import { expectValidSummary } from './summary-schema.ts';

const OUTPUT = new URL('../../test-results/report-html/', import.meta.url).pathname;

describe('report.html in headless Chromium', () => {
  let out: string;
  let run: RunScenarioResult;
  let browser: Browser;

  beforeAll(async () => {
    const executablePath = ensureChromium();
    out = await mkdtemp(join(tmpdir(), 'chatstorm-html-'));
    run = await runScenario({ scenario: 'test/fixtures/small.ts', out, defects: ['reorder'], defectRate: 0.2 });
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    if (out) await rm(out, { recursive: true, force: true });
  });

  it('loads without errors or fetches, draws every chart, and explains the anomalies', async () => {
    expectValidSummary(run.summary);
    expect(run.summary.verdict).toBe('fail');
    const { page, errors, fetched } = await openWatched(browser, join(run.dir, 'report.html'));
    // The chart script marks the body once every chart has drawn.
    await page.waitForSelector('body[data-charts-drawn]', { timeout: 20_000 });
    const charts = await page.$$eval('.chart[data-chart]', (els) => els.map((e) => e.getAttribute('data-chart')));
    expect(charts).toEqual(['delay', 'throughput', 'connections', 'harness']);
    expect(await page.getAttribute('body', 'data-charts-drawn')).toBe('4');

    // Pixels, not only elements: each chart's canvas holds lines in the series' colours.
    const coloured = await page.$$eval('.chart[data-chart] canvas', (canvases) =>
      canvases.map((c) => {
        // (No DOM lib in this project's tsconfig: the little of the canvas API used, typed here.)
        const canvas = c as unknown as { width: number; height: number; getContext(k: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } };
        const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let n = 0;
        for (let i = 0; i < px.length; i += 4) {
          const [r, g, b, a] = [px[i]!, px[i + 1]!, px[i + 2]!, px[i + 3]!];
          if (a > 128 && Math.max(r, g, b) - Math.min(r, g, b) > 60) n++;
        }
        return n;
      }),
    );
    expect(coloured).toHaveLength(4);
    for (const n of coloured) expect(n).toBeGreaterThan(200);

    // The anomaly list tells each witness's events as sentences.
    const failed = Object.values(run.summary.checks).find((c) => c.status === 'fail')!;
    const text = await page.textContent('body');
    expect(text).toContain(`${failed.name}: ${failed.count} anomal`);
    expect(text).toContain(failed.witnesses[0]!.summary);
    expect(text).toMatch(/\d+\.\d s +\S+ sent \S+#\d+ in \S+ \(/);
    expect(text).toMatch(/received \S+#\d+ in \S+ as seq \d+/);
    expect(text).toContain('Delivery by message kind');
    expect(text).toContain('Delivery by fault phase');
    expect(text).toContain('Harness health');

    await mkdir(OUTPUT, { recursive: true });
    await page.screenshot({ path: join(OUTPUT, 'report.png'), fullPage: true });
    expect((await readFile(join(OUTPUT, 'report.png'))).length).toBeGreaterThan(10_000);
    expect(errors).toEqual([]);
    expect(fetched).toEqual([]);
    await page.close();
  });

  it('is written the same by check as by run', async () => {
    const before = await readFile(join(run.dir, 'report.html'), 'utf8');
    const again = await checkRun(run.dir);
    expect(again.summary.verdict).toBe(run.summary.verdict);
    const after = await readFile(join(run.dir, 'report.html'), 'utf8');
    // Same charts and the same data (check re-folds the history the run wrote).
    const blob = (html: string) => /<script type="application\/json" id="chart-data">(.*?)<\/script>/s.exec(html)?.[1];
    expect(blob(after)).toBe(blob(before));
  });
});
