import { describe, expect, it } from 'vitest';
import { foldChecker } from '../../src/check/fold.ts';
import { DuplicatesChecker } from '../../src/check/duplicates.ts';
import type { HistoryEvent } from '../../src/history/events.ts';
import { ack, clean, deliver, population, runEnd, send } from './fixtures.ts';

function run(events: HistoryEvent[]) {
  const c = foldChecker((ledger) => new DuplicatesChecker(ledger), events);
  return c.result();
}

describe('duplicates', () => {
  it('is not-checked on an empty history', () => {
    expect(run([]).status).toBe('not-checked');
  });

  it('passes a clean history', () => {
    expect(run([...population(), ...clean('a1#1', 'm1', 1, 10), runEnd(100)])).toMatchObject({ status: 'pass', count: 0 });
  });

  it('emits a duplicate anomaly when one key is stored under two server ids', () => {
    const r = run([
      ...population(),
      send('a1#1', 10),
      send('a1#1', 1010, { attempt: 2, intendedMs: 10 }),
      ack('a1#1', 'm1', 1, 1011),
      ack('a1#1', 'm2', 2, 1012),
      runEnd(2000),
    ]);
    expect(r.status).toBe('fail');
    expect(r.count).toBe(1);
    expect(r.witnesses[0]!.summary).toMatch(/m1.*m2/);
    expect(r.witnesses[0]!.trail.filter((e) => e.type === 'ack')).toHaveLength(2);
  });

  it('catches a second server id that only shows up in a delivery after the message settled', () => {
    const r = run([...population(), ...clean('a1#1', 'm1', 1, 10), deliver('c1', 'a1#1', 'm9', 9, 500), runEnd(1000)]);
    expect(r.status).toBe('fail');
    expect(r.witnesses[0]!.key).toBe('a1#1');
  });

  it('counts a redelivery of the same server id as a metric without failing', () => {
    const r = run([...population(), ...clean('a1#1', 'm1', 1, 10), deliver('c1', 'a1#1', 'm1', 1, 50, { replay: true }), runEnd(100)]);
    expect(r.status).toBe('pass');
    expect(r.metrics?.['redelivery']).toBe(1);
  });

  it('counts a same-id redelivery while the message is still in flight', () => {
    const r = run([...population(), send('a1#1', 10), deliver('c1', 'a1#1', 'm1', 1, 20), deliver('c1', 'a1#1', 'm1', 1, 30), runEnd(100)]);
    expect(r.status).toBe('pass');
    expect(r.metrics?.['redelivery']).toBe(1);
  });

  it('reports an unknown-outcome send delivered under two server ids as a duplicate', () => {
    const r = run([...population(), send('a1#1', 10), deliver('c1', 'a1#1', 'm1', 1, 20), deliver('c1', 'a1#1', 'm2', 2, 30), runEnd(100)]);
    expect(r.status).toBe('fail');
    expect(r.witnesses[0]!.summary).toMatch(/unknown/);
  });
});
