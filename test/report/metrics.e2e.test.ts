/**
 * `--metrics-port`: a real run serves its live metrics while it goes; the test scrapes once the
 * first delivery of play has happened (an event, not a clock) and again after the run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenario } from '../../src/cli/run-command.ts';
import { expectValidSummary } from './summary-schema.ts';

const value = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('live metrics of a run', () => {
  let out: string;
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'chatstorm-metrics-'));
  });
  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it('are scraped mid-run on 127.0.0.1, and the endpoint closes with the run', async () => {
    let url = '';
    let scrape: Promise<{ text: string; running: boolean }> | null = null;
    let finished = false;
    const r = await runScenario({
      scenario: 'test/fixtures/small.ts',
      out,
      metricsPort: 0,
      // The endpoint is judged, not the run's delays (docs/honesty.md).
      allowHarnessLag: true,
      onMetricsListening: (u) => (url = u),
      onProgress: (p) => {
        if (scrape === null && p.phase === 'play' && p.delivered > 0) {
          scrape = fetch(url)
            .then((res) => res.text())
            .then((text) => ({ text, running: !finished }));
        }
      },
    });
    finished = true;
    expect(r.exitCode).toBe(0);
    expectValidSummary(r.summary);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(scrape).not.toBeNull();
    const mid = await scrape!;
    expect(mid.running).toBe(true);
    expect(value(mid.text, `chatstorm_run_info{run_id="${r.summary.runId}",scenario="small",seed="7"}`)).toBe(1);
    expect(value(mid.text, 'chatstorm_deliveries_total{replay="false"}')).toBeGreaterThan(0);
    expect(mid.text).toMatch(/^chatstorm_sends_total\{kind="text"\} [1-9]/m);
    expect(mid.text).toMatch(/^chatstorm_delivery_delay_seconds_count\{kind="\S+",network="\S+"\} [1-9]/m);
    expect(value(mid.text, 'chatstorm_connected_devices')).toBeGreaterThan(0);
    expect(value(mid.text, 'chatstorm_anomalies_total{check="duplicates"}')).toBe(0);
    expect(mid.text).toContain('# TYPE chatstorm_harness_sender_lag_p99_seconds gauge');
    // Mid-run counts are a part of the final ones.
    expect(value(mid.text, 'chatstorm_deliveries_total{replay="false"}')!).toBeLessThanOrEqual(r.summary.throughput!.delivered);
    await expect(fetch(url)).rejects.toThrow();
  });
});
