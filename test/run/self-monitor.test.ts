/**
 * SelfMonitor windows: the sender-lag p99 of each window (HDR, 0.1 % relative error), reset
 * between windows, and overload declared after `strikes` bad windows in a row.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Recorder } from '../../src/history/recorder.ts';
import type { HistoryEvent, LagEvent } from '../../src/history/events.ts';
import { SelfMonitor } from '../../src/run/self-monitor.ts';

describe('SelfMonitor', () => {
  let events: HistoryEvent[];
  let recorder: Recorder;
  let monitor: SelfMonitor | null = null;
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    recorder = new Recorder();
    events = [];
    recorder.listen((e) => events.push(e));
  });
  afterEach(() => {
    monitor?.stop();
    monitor = null;
    vi.useRealTimers();
  });
  const lags = () => events.filter((e): e is LagEvent => e.type === 'lag').map((e) => e.senderLagP99Ms);

  it('reports the sender-lag p99 of each window, and a window without sends as 0', () => {
    const overloads: string[] = [];
    monitor = new SelfMonitor(recorder, (why) => overloads.push(why), { windowMs: 1000, maxEventLoopMs: 1e9 });
    monitor.start();
    for (let i = 1; i <= 1000; i++) monitor.senderLag(i / 10); // 0.1 .. 100 ms
    vi.advanceTimersByTime(1000);
    vi.advanceTimersByTime(1000);
    const [first, second] = lags();
    expect(first).toBeGreaterThan(99.0 * 0.999); // p99 of 0.1..100 ms is 99.0 ms (tolerance 0.1 %)
    expect(first).toBeLessThan(99.1 * 1.001);
    expect(second).toBe(0);
    expect(overloads).toEqual([]);
    const report = monitor.stop();
    expect(report.senderLagMaxMs).toBe(100);
    expect(report.worstSenderLagP99Ms).toBeCloseTo(first as number, 1);
  });

  it('declares overload after `strikes` windows in a row above the sender-lag limit, once', () => {
    const overloads: string[] = [];
    monitor = new SelfMonitor(recorder, (why) => overloads.push(why), { windowMs: 100, maxEventLoopMs: 1e9, maxSenderLagMs: 50, strikes: 3 });
    monitor.start();
    const window = (lagMs: number) => {
      for (let i = 0; i < 10; i++) monitor?.senderLag(lagMs);
      vi.advanceTimersByTime(100);
    };
    window(80);
    window(80);
    window(10); // a good window resets the strikes
    window(80);
    window(80);
    expect(overloads).toEqual([]);
    window(80);
    window(80);
    expect(overloads).toHaveLength(1);
    expect(overloads[0]).toMatch(/^the harness was the bottleneck for 0\.3 s: .*sender lag p99 80(\.\d+)? ms \(limit 50\)/);
    expect(monitor.stop().overloaded).toBe(overloads[0]);
  });
});
