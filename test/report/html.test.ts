import { describe, expect, it } from 'vitest';
import { renderHtml } from '../../src/report/html.ts';
import { RunSeries } from '../../src/report/run-series.ts';
import { describeEvent, describeTrail } from '../../src/report/event-text.ts';
import { summarize } from '../../src/cli/summarize.ts';
import type { CheckResult, Verdict } from '../../src/check/index.ts';
import type { HistoryEvent } from '../../src/history/events.ts';

const send: HistoryEvent = { type: 'send', atMs: 31_750, device: 'a0008.desktop0', account: 'a0008', conv: 'dm00045', key: 'a0008.desktop0#12', kind: 'text', bytes: 86, intendedMs: 31_700, attempt: 1 };
const ack: HistoryEvent = { type: 'ack', atMs: 31_800, device: 'a0008.desktop0', conv: 'dm00045', key: 'a0008.desktop0#12', id: 'm41', seq: 41 };

function summaryWith(witnessSummary: string) {
  const loss: CheckResult = { name: 'loss', status: 'fail', count: 1, witnesses: [{ summary: witnessSummary, trail: [send, ack] }] };
  const ok = (name: string): CheckResult => ({ name, status: 'pass', count: 0, witnesses: [] });
  const lat = { count: 3, p50Ms: 10, p90Ms: 20, p95Ms: 20, p99Ms: 20, p999Ms: 20, maxMs: 20, meanMs: 12 };
  const verdict: Verdict = {
    checks: { loss, duplicates: ok('duplicates'), ordering: ok('ordering') },
    metrics: { delivery: lat, 'delivery[text]': lat, 'delivery[image]': { ...lat, count: 0 }, 'delivery{eu}': lat, 'delivery@fault': lat },
  };
  return summarize({
    verdict,
    slas: [],
    infraError: null,
    run: { runId: 'r', scenario: 's', seed: 1, startedAt: null, endReason: 'complete' },
    harness: { worstEventLoopP99Ms: 12, worstSenderLagP99Ms: 3, senderLagMaxMs: 4, overloaded: null, events: 10 },
    target: null,
    toxiproxy: null,
    faults: [{ fault: 'f0', network: 'eu', action: 'toxic', description: 'latency 400', startMs: 1000, endMs: null }],
  });
}

describe('describeEvent', () => {
  it('tells a witness trail as timed sentences', () => {
    expect(describeTrail([send, ack])).toEqual([
      '  31.8 s  a0008.desktop0 sent a0008.desktop0#12 in dm00045 (text, 86 B), planned for 31.7 s',
      '  31.8 s  server acked a0008.desktop0#12 to a0008.desktop0 as seq 41 (id m41)',
    ]);
    expect(describeEvent({ type: 'deliver', atMs: 1, device: 'c1.mobile0', account: 'c1', conv: 'dm1', key: 'a#1', id: 'm1', seq: 1, from: 'a', replay: true })).toBe('c1.mobile0 received a#1 in dm1 as seq 1 (id m1) by sync replay');
    expect(describeEvent({ type: 'disconnect', atMs: 1, device: 'd', reason: 'kill', intentional: false })).toBe('d disconnected: kill');
    expect(describeEvent({ type: 'fault', atMs: 1, phase: 'start', fault: 'f1', network: 'eu', action: 'kill', description: 'kill connections', devices: ['d1', 'd2'] })).toBe('fault f1 started on eu: kill connections (devices d1, d2)');
  });
});

describe('RunSeries', () => {
  it('counts per second and infers a failed attempt from a retry before connecting', () => {
    const r = new RunSeries();
    const ev: HistoryEvent[] = [
      { type: 'connect', atMs: 100, device: 'd1', attempt: 1 },
      { type: 'connect', atMs: 900, device: 'd1', attempt: 2 },
      { type: 'connected', atMs: 1200, device: 'd1', tookMs: 1100 },
      { type: 'connect', atMs: 1300, device: 'd2', attempt: 1 },
      { type: 'connected', atMs: 1400, device: 'd2', tookMs: 100 },
      { ...send, atMs: 2100 },
      { ...send, atMs: 2200, attempt: 2 },
      { type: 'deliver', atMs: 2500, device: 'd2', account: 'c', conv: 'dm', key: 'k', id: 'm', seq: 1, from: 'a', replay: false },
      { type: 'disconnect', atMs: 3100, device: 'd2', reason: 'reset', intentional: false },
      { type: 'lag', atMs: 3200, eventLoopP99Ms: 7, senderLagP99Ms: 2 },
      { type: 'disconnect', atMs: 4100, device: 'd1', reason: 'end of run', intentional: true },
    ];
    for (const e of ev) r.step(e);
    const d = r.result();
    expect(d.tS).toEqual([0, 1, 2, 3, 4]);
    expect(d.connectAttempts).toEqual([2, 1, 0, 0, 0]);
    expect(d.connectFailed).toEqual([1, 0, 0, 0, 0]);
    expect(d.liveDevices).toEqual([0, 2, 2, 1, 0]);
    expect(d.sent).toEqual([0, 0, 1, 0, 0]);
    expect(d.delivered).toEqual([0, 0, 1, 0, 0]);
    expect(d.connectionsLost).toEqual([0, 0, 0, 1, 0]);
    expect(d.eventLoopP99Ms).toEqual([null, null, null, 7, null]);
  });
});

describe('renderHtml', () => {
  it('is self-contained: no address outside the page, uPlot inlined', () => {
    const html = renderHtml(summaryWith('lost'), { delay: [{ tS: 1, count: 3, p50Ms: 10, p99Ms: 20, maxMs: 20 }], series: new RunSeries().result() });
    expect(html).not.toMatch(/(src|href)=["']?(https?:)?\/\//);
    expect(html).not.toMatch(/@import|url\(\s*['"]?https?:/);
    expect(html).toContain('uPlot');
    expect(html).toContain('<div class="chart" data-chart="delay"></div>');
  });

  it('keeps witness text from closing the data script or injecting markup', () => {
    const evil = '</script><script>alert(1)</script>';
    const html = renderHtml(summaryWith(evil), { delay: [], series: null });
    expect(html).not.toContain(evil);
    expect(html).toContain('&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('has tables by message kind, network and fault phase, leaving out empty ones, and the trail told as sentences', () => {
    const html = renderHtml(summaryWith('c00045.mobile0 never received a0008.desktop0#12'));
    expect(html).toMatch(/Delivery by message kind<\/h3>.*<td>text<\/td>/s);
    expect(html).not.toContain('<td>image</td>');
    expect(html).toMatch(/Delivery by network.*<td>eu<\/td>/s);
    expect(html).toMatch(/Delivery by fault phase.*<td>fault<\/td>/s);
    expect(html).toContain('server acked a0008.desktop0#12 to a0008.desktop0 as seq 41 (id m41)');
    expect(html).toContain('loss: 1 anomaly');
    // Without series the charts they feed say so instead of drawing nothing.
    expect(html).not.toContain('data-chart="throughput"');
    expect(html).toContain('No deliveries were recorded.');
  });
});
