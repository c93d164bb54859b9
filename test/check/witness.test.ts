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

  it('keep at most ten witnesses while counting every anomaly', () => {
    const events: HistoryEvent[] = [...population()];
    for (let i = 1; i <= 25; i++) events.push(send(`a1#${i}`, i * 10), ack(`a1#${i}`, `m${i}`, i, i * 10 + 1));
    events.push(runEnd(1000));
    const loss = judgeAll(events).checks['loss']!;
    expect(loss.count).toBe(25);
    expect(loss.witnesses).toHaveLength(MAX_WITNESSES);
  });
});
