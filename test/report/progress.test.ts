import { describe, expect, it } from 'vitest';
import { LiveProgressTracker, formatProgress, progressPrinter, type LiveProgress } from '../../src/report/progress.ts';
import type { Progress } from '../../src/run/runner.ts';

const tick = (elapsedMs: number, sent: number, acked: number, delivered: number, phase: Progress['phase'] = 'play'): Progress => ({ elapsedMs, sent, acked, delivered, live: 28, devices: 30, phase });

function tracker(anomalies: Record<string, number> = {}, p99: number | null = null) {
  const t = new LiveProgressTracker({ anomalies: () => anomalies, deliveryP99Ms: () => p99 });
  t.step({ type: 'run-start', atMs: 0, schema: 1, runId: 'r', scenario: 's', seed: 1, startedAt: '2026-01-01T00:00:00.000Z', sendWindowMs: 30_000, graceMs: 10_000 });
  // Play starts at run time 0 (a clock reading of 500 both at play and at the first tick).
  t.markPlay(500);
  return t;
}

describe('LiveProgressTracker', () => {
  it('turns counters into rates since the previous tick and counts what is in flight and which faults are active', () => {
    const t = tracker({ ordering: 2, duplicates: 0 }, 1522.7);
    t.step({ type: 'fault', atMs: 1, phase: 'start', fault: 'f0', network: 'eu', action: 'toxic', description: 'latency' });
    t.step({ type: 'fault', atMs: 2, phase: 'start', fault: 'f1', network: 'cn', action: 'toxic', description: 'bandwidth' });
    t.step({ type: 'fault', atMs: 3, phase: 'end', fault: 'f0', network: 'eu', action: 'toxic', description: 'latency' });
    t.step({ type: 'nack', atMs: 4, device: 'd', conv: 'c', key: 'd#1', code: 'rejected', final: true });
    t.step({ type: 'nack', atMs: 5, device: 'd', conv: 'c', key: 'd#2', code: 'rate-limited', final: false });
    const first = t.tick(tick(1000, 10, 5, 20), 500 + 1000);
    expect(first).toMatchObject({ totalMs: 40_000, sentPerS: 0, deliveredPerS: 0, inFlight: 4, activeFaults: 1, deliveryP99Ms: 1522.7, anomalies: { ordering: 2, duplicates: 0 } });
    const second = t.tick(tick(3000, 30, 25, 80));
    expect(second.sentPerS).toBe(10);
    expect(second.deliveredPerS).toBe(30);
    expect(second.inFlight).toBe(4);
  });
});

describe('formatProgress', () => {
  it('shows elapsed/total, phase, devices, rates, in flight, p99 with its unit, anomalies by check and faults', () => {
    const t = tracker({ ordering: 2, duplicates: 0 }, 1522.7);
    t.tick(tick(11_000, 100, 90, 300), 500 + 11_000);
    const line = formatProgress(t.tick(tick(12_000, 112, 100, 336)));
    expect(line).toBe('[  12s/40s play   ] devices 28/30  sent 12.0/s  delivered 36.0/s  in flight 12  p99 1.52s  anomalies 2 (ordering 2)  faults 0');
  });
  it('says "-" for p99 before the first delivery, and gives no total before play', () => {
    const t = new LiveProgressTracker({ anomalies: () => ({}), deliveryP99Ms: () => null });
    const line = formatProgress(t.tick(tick(3500, 0, 0, 0, 'connect')));
    expect(line).toMatch(/^\[ +3s connect\]/);
    expect(line).toContain('p99 -  anomalies 0  faults 0');
  });

  it('says the run is judged after it ends in place of p99 and anomalies, which it does not have yet', () => {
    const t = new LiveProgressTracker(null);
    const p = t.tick(tick(3500, 10, 9, 20));
    expect(p.anomalies).toBeNull();
    expect(p.deliveryP99Ms).toBeNull();
    expect(formatProgress(p)).toBe('[       3s play   ] devices 28/30  sent 0.0/s  delivered 0.0/s  in flight 1  judged after the run  faults 0');
  });

  it('counts the total from the start of play: set-up time plus send window plus grace', () => {
    const t = new LiveProgressTracker({ anomalies: () => ({}), deliveryP99Ms: () => null });
    t.step({ type: 'run-start', atMs: 0, schema: 1, runId: 'r', scenario: 's', seed: 1, startedAt: '2026-01-01T00:00:00.000Z', sendWindowMs: 3000, graceMs: 5000 });
    t.markPlay(10_000);
    // The tick comes 400 ms after play began, at run time 5.9 s: play began at 5.5 s.
    expect(t.tick(tick(5900, 0, 0, 0), 10_400).totalMs).toBe(13_500);
  });
});

describe('progressPrinter', () => {
  const lp = (elapsedMs: number): LiveProgress => tracker().tick(tick(elapsedMs, 1, 1, 1), 500 + elapsedMs);

  it('rewrites one line in place on a terminal, and ends it once', () => {
    const out: string[] = [];
    const p = progressPrinter({ tty: true, write: (s) => out.push(s) });
    p.onProgress(lp(1000));
    p.onProgress(lp(2000));
    p.done();
    p.done();
    expect(out).toHaveLength(3);
    expect(out[0]).toMatch(/^\r\[ +1s\/40s play +\].*\x1b\[K$/);
    expect(out[1]).toMatch(/^\r\[ +2s\/40s/);
    expect(out[2]).toBe('\n');
  });

  it('prints a plain line every 10 s of run time without a terminal, whatever the tick rate', () => {
    const out: string[] = [];
    const p = progressPrinter({ tty: false, write: (s) => out.push(s) });
    for (let ms = 1000; ms <= 25_000; ms += 1000) p.onProgress(lp(ms));
    // A stalled tick past two periods gives one line, not two.
    p.onProgress(lp(47_000));
    p.done();
    expect(out.map((l) => l.match(/^\[ *(\d+)s/)?.[1])).toEqual(['1', '10', '20', '47']);
    expect(out.every((l) => l.endsWith('\n') && !l.includes('\r'))).toBe(true);
  });

  it('prints a plain line at the first tick and at once when the phase changes', () => {
    const out: string[] = [];
    const p = progressPrinter({ tty: false, write: (s) => out.push(s) });
    p.onProgress({ ...lp(1000), phase: 'connect' });
    p.onProgress({ ...lp(2000), phase: 'play' });
    p.onProgress({ ...lp(3000), phase: 'play' });
    p.onProgress({ ...lp(4000), phase: 'drain' });
    expect(out.map((l) => l.match(/^\[ *(\d+)s/)?.[1])).toEqual(['1', '2', '4']);
  });
});
