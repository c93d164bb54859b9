/**
 * SelfMonitor windows: the sender-lag p99 of each window (HDR, 0.1 % relative error), reset
 * between windows, and overload declared after `strikes` bad windows in a row.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Recorder } from '../../src/history/recorder.ts';
import type { HistoryEvent, LagEvent } from '../../src/history/events.ts';
import { SelfMonitor, combineLags } from '../../src/run/self-monitor.ts';
import { spreadStall } from '../../src/run/loop-probe.ts';
import { LatencyHistogram } from '../../src/stats/hdr.ts';
import { burnCpu } from './burn-cpu.ts';

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

  it('emits no lag event once stopped, and stop is idempotent (the runner stops it before run-end)', () => {
    monitor = new SelfMonitor(recorder, () => {}, { windowMs: 100 });
    monitor.start();
    vi.advanceTimersByTime(100);
    expect(lags()).toHaveLength(1);
    const first = monitor.stop();
    vi.advanceTimersByTime(1000);
    expect(lags()).toHaveLength(1);
    monitor.senderLag(500); // a straggler after stop changes nothing
    expect(monitor.stop()).toEqual(first);
  });

  it('keeps run-level figures only from measure() on, over every window', () => {
    monitor = new SelfMonitor(recorder, () => {}, { windowMs: 100, maxEventLoopMs: 1e9, maxSenderLagMs: 1e9 });
    monitor.start();
    monitor.senderLag(900); // set-up: not measured
    monitor.measure();
    for (let w = 0; w < 3; w++) {
      for (let i = 1; i <= 100; i++) monitor.senderLag(i / 10); // 0.1 .. 10 ms, in each of three windows
      vi.advanceTimersByTime(100);
    }
    const lag = monitor.stop().lag;
    expect(lag?.senderLag.count).toBe(300);
    expect(lag?.senderLag.maxMs).toBe(10);
    expect(lag?.senderLag.p50Ms).toBeCloseTo(5, 1);
    expect(lag?.eventLoopDelay.count).toBeGreaterThanOrEqual(0);
  });

  it.runIf(process.platform === 'linux')("reports the main thread's CPU and run-queue wait over the measured span", () => {
    monitor = new SelfMonitor(recorder, () => {}, { windowMs: 100 });
    monitor.start();
    monitor.measure();
    burnCpu(30);
    const cpu = monitor.stop().lag?.cpu;
    expect(cpu?.onCpuMs).toBeGreaterThan(15);
    // The kernel brings a running thread's CPU time up to date at its scheduler tick (up to 10 ms
    // at HZ=100), so the span's CPU time may run a tick ahead of its wall time, never more.
    expect(cpu?.wallMs).toBeGreaterThan((cpu?.onCpuMs ?? Infinity) - 10);
    expect(cpu?.waitedMs).toBeGreaterThanOrEqual(0);
  });

  it('reports no run-level figures when play never started', () => {
    monitor = new SelfMonitor(recorder, () => {});
    monitor.start();
    expect(monitor.stop().lag).toBeNull();
  });
});

describe('combineLags', () => {
  const hist = (values: number[]) => {
    const h = new LatencyHistogram({ lowestUs: 1, highestUs: 3_600_000_000, digits: 3 });
    for (const v of values) h.recordMs(v);
    return h;
  };

  it('adds two constants', () => {
    const c = combineLags(hist([10, 10, 10]), hist([5])).summary();
    expect(c.p50Ms).toBeCloseTo(15, 1);
    expect(c.maxMs).toBeCloseTo(15, 1);
  });

  it('treats an empty histogram as always 0', () => {
    const values = Array.from({ length: 1000 }, (_, i) => (i + 1) / 10); // 0.1 .. 100 ms
    const c = combineLags(hist(values), hist([])).summary();
    expect(c.p50Ms).toBeCloseTo(50, 0);
    expect(c.p99Ms).toBeCloseTo(99, 0);
  });

  it('gives the p99 of a sum of independent lags: rare stalls on each side do not add up at p99', () => {
    // 2 % of sends 100 ms late, 2 % of arrivals wait 100 ms, the rest 1 ms: a delivery gets both
    // with probability 0.04 %, so its p99 is about 101 ms, not 200.
    const side = [...Array.from({ length: 98 }, () => 1), 100, 100];
    const c = combineLags(hist(side), hist(side)).summary();
    expect(c.p50Ms).toBeCloseTo(2, 1);
    expect(c.p99Ms).toBeGreaterThan(100);
    expect(c.p99Ms).toBeLessThan(102);
  });
});

describe('spreadStall', () => {
  it('spreads a stall over one wait per resolution step, longest first', () => {
    const got: number[] = [];
    spreadStall(40, 10, (w) => got.push(w));
    expect(got).toEqual([40, 30, 20, 10]);
  });

  it('records a punctual timer as one small wait', () => {
    const got: number[] = [];
    spreadStall(0.3, 10, (w) => got.push(w));
    expect(got).toEqual([0.3]);
  });
});
