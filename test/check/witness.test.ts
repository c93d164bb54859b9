import { describe, expect, it } from 'vitest';
import { judgeAll, MAX_WITNESSES } from '../../src/check/index.ts';
import type { HistoryEvent } from '../../src/history/events.ts';
import { ack, deliver, fault, population, runEnd, send } from './fixtures.ts';

describe('witnesses', () => {
  it('put the fault active at send time and the missing device\'s disconnect and reconnect in a loss trail', () => {
    const v = judgeAll([
      ...population(),
      fault('start', 5),
      { type: 'disconnect', atMs: 8, device: 'c1', reason: 'timeout', intentional: false },
      send('a1#1', 10),
      ack('a1#1', 'm1', 1, 15),
      deliver('a2', 'a1#1', 'm1', 1, 20),
      { type: 'connect', atMs: 30, device: 'c1', attempt: 1 },
      { type: 'connected', atMs: 40, device: 'c1', tookMs: 10 },
      fault('end', 50),
      runEnd(100),
    ]);
    const w = v.checks['loss']!.witnesses[0]!;
    expect(w.trail.map((e) => e.type)).toEqual(['fault', 'disconnect', 'send', 'ack', 'deliver', 'connect', 'connected', 'fault']);
    expect(w.trail.map((e) => e.atMs)).toEqual([...w.trail.map((e) => e.atMs)].sort((a, b) => a - b));
  });

  it("keep the anomaly's own events in history order when they share a timestamp", () => {
    // A server that swaps two messages writes them back to back; both frames arrive in one read
    // and are stamped in the same microsecond. The swap must still read as a swap in the trail.
    const v = judgeAll([
      ...population(),
      send('a1#1', 10),
      send('a1#2', 11),
      ack('a1#1', 'm1', 1, 15),
      ack('a1#2', 'm2', 2, 16),
      deliver('c1', 'a1#2', 'm2', 2, 20),
      deliver('c1', 'a1#1', 'm1', 1, 20),
      deliver('a2', 'a1#1', 'm1', 1, 21),
      deliver('a2', 'a1#2', 'm2', 2, 22),
      runEnd(100),
    ]);
    const w = v.checks['ordering']!.witnesses.find((x) => x.summary.includes('from the same sender'))!;
    expect(w.summary).toBe('c1 showed a1#1 (seq 1) after a1#2 (seq 2) from the same sender a1');
    const atC1 = w.trail.flatMap((e) => (e.type === 'deliver' && e.device === 'c1' ? [e.seq] : []));
    expect(atC1).toEqual([2, 1]);
  });

  it('keep at most ten witnesses while counting every anomaly', () => {
    const events: HistoryEvent[] = [...population()];
    for (let i = 1; i <= 25; i++) events.push(send(`a1#${i}`, i * 10), ack(`a1#${i}`, `m${i}`, i, i * 10 + 1));
    events.push(runEnd(1000));
    const loss = judgeAll(events).checks['loss']!;
    expect(loss.count).toBe(25);
    expect(loss.witnesses).toHaveLength(MAX_WITNESSES);
  });

  it('show the original send and the first copy of each server id in the trail of a duplicate found after the message settled', () => {
    // The `no-dedup` case: a1#1 stored and delivered everywhere (settled), then a1 is killed
    // before the ack and resends after reconnecting; the server stores it again.
    const v = judgeAll([
      ...population(),
      send('a1#1', 10),
      deliver('c1', 'a1#1', 'm1', 1, 15),
      deliver('a2', 'a1#1', 'm1', 1, 16),
      { type: 'disconnect', atMs: 20, device: 'a1', reason: 'killed by fault f0', intentional: true },
      { type: 'connect', atMs: 400, device: 'a1', attempt: 1 },
      { type: 'connected', atMs: 450, device: 'a1', tookMs: 430 },
      send('a1#1', 451, { attempt: 2, intendedMs: 10 }),
      ack('a1#1', 'm2', 2, 460),
      deliver('c1', 'a1#1', 'm2', 2, 465),
      deliver('a2', 'a1#1', 'm2', 2, 466),
      runEnd(1000),
    ]);
    const w = v.checks['duplicates']!.witnesses[0]!;
    expect(w.trail.map((e) => [e.type, e.atMs])).toEqual([
      ['send', 10],
      ['deliver', 15],
      ['disconnect', 20],
      ['connect', 400],
      ['connected', 450],
      ['send', 451],
      ['ack', 460],
    ]);
  });

  it('show the sends of a message that settles on the very delivery that breaks its order', () => {
    const v = judgeAll([
      ...population(),
      send('a1#1', 10),
      send('a1#2', 11),
      ack('a1#1', 'm1', 1, 15),
      ack('a1#2', 'm2', 2, 16),
      deliver('a2', 'a1#1', 'm1', 1, 20),
      deliver('c1', 'a1#2', 'm2', 2, 21),
      deliver('a2', 'a1#2', 'm2', 2, 22),
      // c1 is the last device a1#1 was missing: this delivery settles it.
      deliver('c1', 'a1#1', 'm1', 1, 23),
      runEnd(100),
    ]);
    const ordering = v.checks['ordering']!;
    expect(ordering.metrics?.['receiverFifo']).toBe(1);
    expect(ordering.witnesses[0]!.trail.map((e) => [e.type, e.atMs])).toEqual([
      ['send', 10],
      ['ack', 15],
      ['deliver', 20],
      ['deliver', 21],
      ['deliver', 23],
    ]);
  });
});
