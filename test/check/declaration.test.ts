/**
 * What the driver declared (on `run-start`) decides which checks can be judged: the others say
 * `not-checked`, `unsupported`, naming the capability; ids and positions may be absent.
 */
import { describe, expect, it } from 'vitest';
import { judgeAll } from '../../src/check/judge.ts';
import type { DriverDeclaration, HistoryEvent } from '../../src/history/events.ts';
import { ack, deliver, population, runEnd, send } from './fixtures.ts';

function withDriver(d: Partial<DriverDeclaration>): HistoryEvent[] {
  const [start, ...rest] = population();
  const driver: DriverDeclaration = { name: 'other-chat', ordering: 'number', serverIds: 'global', unreadCounts: true, historyPages: true, clientIds: true, resumption: false, ...d };
  return [{ ...(start as Extract<HistoryEvent, { type: 'run-start' }>), driver }, ...rest];
}

/** A message acked and delivered everywhere, without any server id or position. */
function bare(key: string, atMs: number): HistoryEvent[] {
  const strip = <E extends HistoryEvent>(e: E): E => ({ ...e, id: undefined, seq: undefined });
  return [send(key, atMs), strip(ack(key, 'x', 0, atMs + 5)), strip(deliver('c1', key, 'x', 0, atMs + 10)), strip(deliver('a2', key, 'x', 0, atMs + 12))];
}

describe('checks under a driver declaration', () => {
  it('judges loss and isolation without ids or positions, and says why the others cannot run', () => {
    const v = judgeAll([...withDriver({ ordering: 'none', serverIds: 'none', unreadCounts: false, historyPages: false }), ...bare('a1#1', 10), ...bare('a1#2', 20), runEnd(100)]);
    expect(v.checks['loss']).toMatchObject({ status: 'pass', count: 0 });
    expect(v.checks['isolation']).toMatchObject({ status: 'pass' });
    expect(v.checks['ordering']).toMatchObject({ status: 'not-checked', unsupported: true, note: "driver other-chat gives no ordering positions (capabilities.ordering: 'none')" });
    expect(v.checks['duplicates']).toMatchObject({ status: 'not-checked', unsupported: true, note: expect.stringContaining("capabilities.serverIds: 'none'") });
    expect(v.checks['sync']).toMatchObject({ status: 'not-checked', unsupported: true, note: expect.stringContaining('capabilities.unreadCounts: false') });
    expect(v.checks['history']).toMatchObject({ status: 'not-checked', unsupported: true, note: expect.stringContaining('capabilities.historyPages: false') });
    expect(v.metrics['delivery']!.count).toBe(4);
  });

  it('still finds a loss when deliveries carry no ids', () => {
    const [s, a, c1] = bare('a1#1', 10);
    const v = judgeAll([...withDriver({ ordering: 'none', serverIds: 'none' }), s!, a!, c1!, runEnd(100)]);
    expect(v.checks['loss']).toMatchObject({ status: 'fail', count: 1 });
  });

  it('judges ordering on opaque tokens', () => {
    const tok = <E extends HistoryEvent>(e: E, pos: string): E => ({ ...e, seq: undefined, pos });
    const events = [
      ...withDriver({ ordering: 'token' }),
      send('a1#1', 10),
      send('a1#2', 11),
      tok(ack('a1#1', 'm1', 0, 15), 'k0002'),
      tok(ack('a1#2', 'm2', 0, 16), 'k0001'),
      runEnd(100),
    ];
    // a1#1 was written before a1#2 was first sent, yet it sorts after it: server FIFO broken.
    expect(judgeAll(events).checks['ordering']).toMatchObject({ status: 'fail', metrics: { serverFifo: 1 } });
    const fixed = events.map((e) => (e.type === 'ack' ? { ...e, pos: e.key === 'a1#1' ? 'k0001' : 'k0002' } : e));
    expect(judgeAll(fixed).checks['ordering']).toMatchObject({ status: 'pass' });
  });

  it('with per-copy ids, fails a device shown one message twice but not copies with their own ids', () => {
    const copies = [...withDriver({ serverIds: 'per-copy' }), send('a1#1', 10), ack('a1#1', 's1', 1, 15), deliver('c1', 'a1#1', 'c-1', 1, 20), deliver('a2', 'a1#1', 'a-1', 1, 21)];
    expect(judgeAll([...copies, runEnd(100)]).checks['duplicates']).toMatchObject({ status: 'pass', count: 0 });
    const twice = judgeAll([...copies, deliver('c1', 'a1#1', 'c-2', 2, 30), runEnd(100)]).checks['duplicates']!;
    expect(twice).toMatchObject({ status: 'fail', count: 1 });
    expect(twice.witnesses[0]!.summary).toBe('a1#1 in conv1 was shown twice on c1, the second time as c-2');
  });

  it('with per-copy ids, keeps the first copy of every device of a large room after the message settled, for the witness of a later second copy', () => {
    const crowd = Array.from({ length: 10 }, (_, i) => `d${i + 1}`);
    const [start, ...rest] = withDriver({ serverIds: 'per-copy' });
    const history: HistoryEvent[] = [
      start!,
      ...rest,
      { type: 'account', atMs: 0, account: 'crowd', role: 'customer', devices: crowd, network: 'eu-customers' },
      { type: 'conv', atMs: 0, conv: 'room', kind: 'group', members: ['agent', 'crowd'] },
      send('a1#1', 10, { conv: 'room' }),
      ack('a1#1', 's1', 1, 15, { conv: 'room' }),
      deliver('a2', 'a1#1', 'a-1', 1, 20, { conv: 'room' }),
      ...crowd.map((d, i) => deliver(d, 'a1#1', `${d}-1`, 1, 21 + i, { conv: 'room', account: 'crowd' })),
      // Settled long ago: the resend stored again reaches the last device of the room.
      deliver('d10', 'a1#1', 'd10-2', 2, 500, { conv: 'room', account: 'crowd' }),
      runEnd(1000),
    ];
    const dup = judgeAll(history).checks['duplicates']!;
    expect(dup).toMatchObject({ status: 'fail', count: 1 });
    const w = dup.witnesses[0]!;
    expect(w.summary).toBe('a1#1 in room was shown twice on d10, the second time as d10-2');
    const ids = (w.trail as readonly HistoryEvent[]).filter((e) => e.type === 'deliver' && e.device === 'd10').map((e) => (e as { id?: string }).id);
    expect(ids).toEqual(['d10-1', 'd10-2']);
  });
});
