import { describe, expect, it } from 'vitest';
import { foldChecker } from '../../src/check/fold.ts';
import { DelayMetrics } from '../../src/check/delay.ts';
import type { HistoryEvent } from '../../src/history/events.ts';
import { ack, deliver, fault, population, send } from './fixtures.ts';

function run(events: HistoryEvent[]) {
  const d = foldChecker((ledger) => new DelayMetrics(ledger), events);
  return d.histograms.summaries();
}

describe('delay metrics', () => {
  it('measures delivery from the intended send time, not the late actual write', () => {
    const m = run([...population(), send('a1#1', 900, { intendedMs: 100 }), deliver('c1', 'a1#1', 'm1', 1, 1000)]);
    expect(m['delivery']!.count).toBe(1);
    expect(m['delivery']!.maxMs).toBeCloseTo(900, 0);
  });

  it('splits delivery by message kind and by the receiving device\'s network', () => {
    const m = run([
      ...population(),
      send('a1#1', 0, { kind: 'image' }),
      deliver('c1', 'a1#1', 'm1', 1, 300),
      deliver('a2', 'a1#1', 'm1', 1, 100),
    ]);
    expect(m['delivery[image]']!.count).toBe(2);
    expect(m['delivery[text]']).toBeUndefined();
    expect(m['delivery{eu-customers}']!.maxMs).toBeCloseTo(300, 0);
    expect(m['delivery{cn-agents}']!.maxMs).toBeCloseTo(100, 0);
  });

  it('counts only the first arrival per device', () => {
    const m = run([...population(), send('a1#1', 0), deliver('c1', 'a1#1', 'm1', 1, 100), deliver('c1', 'a1#1', 'm1', 1, 5000, { replay: true })]);
    expect(m['delivery']!.count).toBe(1);
  });

  it('files deliveries under the fault phase at the intended send time', () => {
    const m = run([
      ...population(),
      send('a1#1', 0),
      deliver('c1', 'a1#1', 'm1', 1, 10),
      fault('start', 1000),
      send('a1#2', 2000),
      deliver('c1', 'a1#2', 'm2', 2, 2100),
      fault('end', 3000),
      send('a1#3', 4000),
      deliver('c1', 'a1#3', 'm3', 3, 4100),
      send('a1#4', 20_000),
      deliver('c1', 'a1#4', 'm4', 4, 20_010),
    ]);
    expect(m['delivery@steady']!.count).toBe(2);
    expect(m['delivery@fault']!.count).toBe(1);
    expect(m['delivery@recovery']!.count).toBe(1);
  });

  it('measures ack delay from the intended time and reconnect time from connected events', () => {
    const m = run([
      ...population(),
      send('a1#1', 50, { intendedMs: 0 }),
      ack('a1#1', 'm1', 1, 120),
      { type: 'connected', atMs: 0, device: 'c1', tookMs: 30 },
      { type: 'connected', atMs: 500, device: 'c1', tookMs: 250 },
    ]);
    expect(m['ack']!.maxMs).toBeCloseTo(120, 0);
    expect(m['connect']!.count).toBe(1);
    expect(m['reconnect']!.maxMs).toBeCloseTo(250, 0);
  });
});
