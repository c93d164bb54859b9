import { describe, expect, it } from 'vitest';
import { LiveMetrics, DELAY_HORIZON_MS } from '../../src/report/live-metrics.ts';
import { startMetricsServer } from '../../src/report/metrics-server.ts';
import type { HistoryEvent } from '../../src/history/events.ts';

/** The value of one sample line, e.g. `chatstorm_acks_total` or `chatstorm_sends_total{kind="text"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const history: HistoryEvent[] = [
  { type: 'run-start', atMs: 0, schema: 1, runId: 'r1', scenario: 'demo', seed: 7, startedAt: '2026-01-01T00:00:00.000Z', sendWindowMs: 1000, graceMs: 1000 },
  { type: 'account', atMs: 0, account: 'a1', role: 'agent', devices: ['a1.desktop0'], network: 'agents' },
  { type: 'account', atMs: 0, account: 'c1', role: 'customer', devices: ['c1.mobile0', 'c1.web0'], network: 'eu' },
  { type: 'connect', atMs: 1, device: 'a1.desktop0', attempt: 1 },
  { type: 'connected', atMs: 5, device: 'a1.desktop0', tookMs: 4 },
  { type: 'connect', atMs: 1, device: 'c1.mobile0', attempt: 1 },
  { type: 'connected', atMs: 6, device: 'c1.mobile0', tookMs: 5 },
  { type: 'fault', atMs: 10, phase: 'start', fault: 'f0', network: 'eu', action: 'toxic', description: 'latency 400' },
  { type: 'send', atMs: 101, device: 'a1.desktop0', account: 'a1', conv: 'dm1', key: 'a1.desktop0#1', kind: 'text', bytes: 10, intendedMs: 100, attempt: 1 },
  { type: 'ack', atMs: 110, device: 'a1.desktop0', conv: 'dm1', key: 'a1.desktop0#1', id: 'm1', seq: 1 },
  { type: 'deliver', atMs: 550, device: 'c1.mobile0', account: 'c1', conv: 'dm1', key: 'a1.desktop0#1', id: 'm1', seq: 1, from: 'a1.desktop0', replay: false },
  { type: 'send', atMs: 700, device: 'a1.desktop0', account: 'a1', conv: 'dm1', key: 'a1.desktop0#1', kind: 'text', bytes: 10, intendedMs: 100, attempt: 2 },
  { type: 'disconnect', atMs: 800, device: 'c1.mobile0', reason: 'kill', intentional: false },
  { type: 'deliver', atMs: 900, device: 'c1.web0', account: 'c1', conv: 'dm1', key: 'a1.desktop0#1', id: 'm1', seq: 1, from: 'a1.desktop0', replay: true },
  { type: 'lag', atMs: 1000, eventLoopP99Ms: 12, senderLagP99Ms: 30 },
];

describe('LiveMetrics', () => {
  it('counts sends, acks, deliveries and connections and times deliveries from the intended send', async () => {
    const m = new LiveMetrics({ anomalies: () => ({ duplicates: 2, ordering: 0 }) });
    for (const e of history) m.step(e);
    const t = await m.text();
    expect(sample(t, 'chatstorm_run_info{run_id="r1",scenario="demo",seed="7"}')).toBe(1);
    expect(sample(t, 'chatstorm_sends_total{kind="text"}')).toBe(1);
    expect(sample(t, 'chatstorm_resends_total')).toBe(1);
    expect(sample(t, 'chatstorm_acks_total')).toBe(1);
    expect(sample(t, 'chatstorm_deliveries_total{replay="false"}')).toBe(1);
    expect(sample(t, 'chatstorm_deliveries_total{replay="true"}')).toBe(1);
    expect(sample(t, 'chatstorm_connect_attempts_total')).toBe(2);
    expect(sample(t, 'chatstorm_disconnects_total{intentional="false"}')).toBe(1);
    expect(sample(t, 'chatstorm_connected_devices')).toBe(1);
    expect(sample(t, 'chatstorm_devices')).toBe(3);
    expect(sample(t, 'chatstorm_active_faults{network="eu"}')).toBe(1);
    expect(sample(t, 'chatstorm_harness_event_loop_p99_seconds')).toBe(0.012);
    expect(sample(t, 'chatstorm_harness_sender_lag_p99_seconds')).toBe(0.03);
    // 550 - 100 = 450 ms from the intended time: in the 0.5 s bucket, not the 0.25 s one; the replay is not timed.
    expect(sample(t, 'chatstorm_delivery_delay_seconds_bucket{le="0.25",kind="text",network="eu"}')).toBe(0);
    expect(sample(t, 'chatstorm_delivery_delay_seconds_bucket{le="0.5",kind="text",network="eu"}')).toBe(1);
    expect(sample(t, 'chatstorm_delivery_delay_seconds_count{kind="text",network="eu"}')).toBe(1);
    expect(sample(t, 'chatstorm_delivery_delay_seconds_sum{kind="text",network="eu"}')).toBeCloseTo(0.45, 6);
    expect(sample(t, 'chatstorm_anomalies_total{check="duplicates"}')).toBe(2);
    expect(sample(t, 'chatstorm_anomalies_total{check="ordering"}')).toBe(0);
  });

  it('keeps the anomaly counter monotonic across scrapes, following the checks', async () => {
    let n = 1;
    const m = new LiveMetrics({ anomalies: () => ({ ordering: n }) });
    expect(sample(await m.text(), 'chatstorm_anomalies_total{check="ordering"}')).toBe(1);
    n = 4;
    expect(sample(await m.text(), 'chatstorm_anomalies_total{check="ordering"}')).toBe(4);
    expect(sample(await m.text(), 'chatstorm_anomalies_total{check="ordering"}')).toBe(4);
  });

  it('ends a fault and counts a delivery past the horizon as untracked, bounding memory', async () => {
    const m = new LiveMetrics();
    for (const e of history.slice(0, 9)) m.step(e);
    m.step({ type: 'fault', atMs: 20, phase: 'end', fault: 'f0', network: 'eu', action: 'toxic', description: 'latency 400' });
    const late = DELAY_HORIZON_MS + 1000;
    m.step({ type: 'send', atMs: late, device: 'a1.desktop0', account: 'a1', conv: 'dm1', key: 'a1.desktop0#2', kind: 'emoji', bytes: 4, intendedMs: late, attempt: 1 });
    m.step({ type: 'deliver', atMs: late + 5, device: 'c1.mobile0', account: 'c1', conv: 'dm1', key: 'a1.desktop0#1', id: 'm1', seq: 1, from: 'a1.desktop0', replay: false });
    const t = await m.text();
    expect(sample(t, 'chatstorm_active_faults{network="eu"}')).toBe(0);
    expect(sample(t, 'chatstorm_delivery_delay_untracked_total')).toBe(1);
  });
});

describe('startMetricsServer', () => {
  it('serves the exposition format on 127.0.0.1 and 404s elsewhere', async () => {
    const m = new LiveMetrics();
    m.step(history[0]!);
    const srv = await startMetricsServer(m, 0);
    try {
      expect(srv.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      const res = await fetch(srv.url);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/plain');
      expect(await res.text()).toContain('chatstorm_run_info{run_id="r1"');
      expect((await fetch(srv.url.replace('/metrics', '/other'))).status).toBe(404);
    } finally {
      await srv.close();
    }
    await expect(fetch(srv.url)).rejects.toThrow();
  });
});

describe('docs/grafana-dashboard.json', () => {
  it('queries only metrics that chatstorm serves', async () => {
    const { readFile } = await import('node:fs/promises');
    const dash = JSON.parse(await readFile(new URL('../../docs/grafana-dashboard.json', import.meta.url), 'utf8')) as { panels: { targets: { expr: string }[] }[] };
    const served = new Set((await new LiveMetrics().registry.getMetricsAsJSON()).map((m) => m.name));
    const used = new Set(dash.panels.flatMap((p) => p.targets.flatMap((t) => [...t.expr.matchAll(/chatstorm_\w+/g)].map((m) => m[0].replace(/_(bucket|count|sum)$/, '')))));
    expect(used.size).toBeGreaterThan(8);
    expect([...used].filter((n) => !served.has(n))).toEqual([]);
  });
});
