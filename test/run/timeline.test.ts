import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { Timeline } from '../../src/run/timeline.ts';
import { SelfMonitor } from '../../src/run/self-monitor.ts';
import { Recorder } from '../../src/history/recorder.ts';
import type { HistoryEvent } from '../../src/history/events.ts';

const burn = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // block the event loop on purpose
  }
};

describe('Timeline', () => {
  it('fires every action once, in planned order, with its intended time', async () => {
    const rec = new Recorder();
    const t = new Timeline(rec);
    const fired: [number, number][] = [];
    for (const at of [30, 0, 10, 10, 20]) t.at(at, (intended) => fired.push([at, intended]));
    const origin = rec.now();
    await t.start(origin);
    expect(fired.map(([at]) => at)).toEqual([0, 10, 10, 20, 30]);
    for (const [at, intended] of fired) expect(intended).toBe(origin + at);
  });

  it('hands each action its own item when many share one function', async () => {
    const rec = new Recorder();
    const t = new Timeline(rec);
    const seen: string[] = [];
    const run = (_intended: number, item: { name: string }) => seen.push(item.name);
    t.at(20, run, { name: 'c' });
    t.at(0, run, { name: 'a' });
    t.at(10, run, { name: 'b' });
    await t.start(rec.now());
    expect(seen).toEqual(['a', 'b', 'c']);
  });

  it('works off a backlog in slices, letting other callbacks run in between', async () => {
    const rec = new Recorder();
    const t = new Timeline(rec);
    const order: string[] = [];
    // 40 actions all overdue at once, each blocking 2 ms: about 80 ms of work.
    for (let i = 0; i < 40; i++) {
      t.at(0, () => {
        burn(2);
        order.push('action');
      });
    }
    setImmediate(() => order.push('other'));
    await t.start(rec.now() - 1000);
    const other = order.indexOf('other');
    expect(other).toBeGreaterThan(0);
    expect(other).toBeLessThan(order.length - 1);
    expect(order.filter((x) => x === 'action')).toHaveLength(40);
  });

  it('stops firing after stop()', async () => {
    const rec = new Recorder();
    const t = new Timeline(rec);
    let fired = 0;
    t.at(0, () => {
      fired++;
      t.stop();
    });
    t.at(0, () => fired++);
    await t.start(rec.now());
    expect(fired).toBe(1);
  });
});

describe('SelfMonitor', () => {
  it('declares overload after consecutive windows of sender lag over the limit, and says the harness was the bottleneck', async () => {
    const rec = new Recorder();
    const lags: HistoryEvent[] = [];
    rec.listen((e) => e.type === 'lag' && lags.push(e));
    let why: string | null = null;
    const m = new SelfMonitor(rec, (w) => (why = w), { maxSenderLagMs: 50, maxEventLoopMs: 10_000, windowMs: 20, strikes: 2 });
    m.start();
    for (let i = 0; i < 100 && why === null; i++) {
      m.senderLag(500);
      await new Promise((r) => setTimeout(r, 5));
    }
    const report = m.stop();
    expect(why).toMatch(/^the harness was the bottleneck for 0\.04 s: /);
    expect(why).toContain('sender lag p99 500 ms (limit 50)');
    expect(report.overloaded).toBe(why);
    expect(report.worstSenderLagP99Ms).toBe(500);
    expect(lags.length).toBeGreaterThanOrEqual(2);
  });

  it('does not declare overload when lag stays under the limit', async () => {
    const rec = new Recorder();
    let why: string | null = null;
    const m = new SelfMonitor(rec, (w) => (why = w), { maxSenderLagMs: 50, maxEventLoopMs: 10_000, windowMs: 20, strikes: 2 });
    m.start();
    for (let i = 0; i < 20; i++) {
      m.senderLag(5);
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(m.stop().overloaded).toBeNull();
    expect(why).toBeNull();
  });
});
