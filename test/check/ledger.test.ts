/**
 * The ledger's compact settled records: one server id kept inline, the rest in a map only after
 * a duplicate; settled records share empty tables, which must never be written through; a trail
 * of just one send and one ack is implied by the record and rebuilt exactly.
 */
import { describe, expect, it } from 'vitest';
import { Ledger, idCount, serverIds, trailOf } from '../../src/check/ledger.ts';
import type { HistoryEvent } from '../../src/history/events.ts';
import { ack, clean, deliver, population, send } from './fixtures.ts';

function ledgerOf(events: HistoryEvent[]): Ledger {
  const l = new Ledger();
  for (const e of events) l.step(e);
  return l;
}

describe('ledger', () => {
  it('keeps every server id of a key, in order of discovery, the first inline', () => {
    const l = ledgerOf([...population(), send('a1#1', 10), ack('a1#1', 'm1', 1, 15), deliver('c1', 'a1#1', 'm2', 2, 20), deliver('a2', 'a1#1', 'm3', 3, 25)]);
    const m = l.get('a1#1')!;
    expect(m.firstId).toBe('m1');
    expect(idCount(m)).toBe(3);
    expect(serverIds(m)).toEqual([['m1', 1], ['m2', 2], ['m3', 3]]);
    const single = ledgerOf([...population(), ...clean('a1#2', 'x1', 7, 10)]).get('a1#2')!;
    expect(single.moreIds).toBeUndefined();
    expect(serverIds(single)).toEqual([['x1', 7]]);
  });

  it('gives settled records shared empty tables and never writes through them', () => {
    // Two messages settle; then a device of a non-member account receives the first one twice.
    const l = ledgerOf([...population(), ...clean('a1#1', 'm1', 1, 10), ...clean('a1#2', 'm2', 2, 20), send('a1#3', 30)]);
    const one = l.get('a1#1')!;
    const two = l.get('a1#2')!;
    expect(one.settledAtMs).toBeDefined();
    expect(two.settledAtMs).toBeDefined();
    expect(one.seen.size).toBe(0);

    l.step(deliver('o1', 'a1#1', 'm1', 1, 40));
    expect(l.last).toMatchObject({ type: 'deliver', cls: 'first', expected: false, firstForDevice: true });
    // What one settled record learned is not seen by another.
    expect(one.seen.size).toBe(1);
    expect(two.seen.size).toBe(0);
    l.step(deliver('o1', 'a1#1', 'm1', 1, 50));
    expect(l.last).toMatchObject({ type: 'deliver', cls: 'redelivery' });
    // The in-flight record still has its own tables.
    expect(l.get('a1#3')!.missing).toEqual(new Set(['a2', 'c1']));
    expect(two.missing.size).toBe(0);
  });

  it('implies a settled [send, ack] trail and rebuilds it exactly, once, in field order', () => {
    const events = [...population(), ...clean('a1#1', 'm1', 1, 10), send('a1#2', 30)];
    const l = ledgerOf(events);
    const m = l.get('a1#1')!;
    expect(m.settledAtMs).toBeDefined();
    const rebuilt = trailOf(m);
    expect(JSON.stringify(rebuilt)).toBe(JSON.stringify([events[5], events[6]]));
    expect(JSON.stringify(trailOf(m))).toBe(JSON.stringify(rebuilt));
    // Appending to an implied trail (a late ack revealing a second id) keeps both events.
    const l2 = ledgerOf(events);
    l2.step(ack('a1#1', 'm9', 9, 40));
    expect(trailOf(l2.get('a1#1')!).map((e) => e.type === 'ack' && e.id)).toEqual([false, 'm1', 'm9']);
  });

  it('keeps the events themselves when the record cannot imply them', () => {
    // A resend, an ack with another field order, an attachment hash: each stays explicit.
    const resent = ledgerOf([...population(), send('a1#1', 10), send('a1#1', 12, { attempt: 2 }), ack('a1#1', 'm1', 1, 15), deliver('c1', 'a1#1', 'm1', 1, 20), deliver('a2', 'a1#1', 'm1', 1, 21), send('a1#2', 30)]);
    expect(resent.get('a1#1')!.trail.map((e) => e.type)).toEqual(['send', 'send', 'ack']);
    const reordered: HistoryEvent = { atMs: 15, type: 'ack', device: 'a1', conv: 'conv1', key: 'a1#1', id: 'm1', seq: 1 };
    const odd = ledgerOf([...population(), send('a1#1', 10), reordered, deliver('c1', 'a1#1', 'm1', 1, 20), deliver('a2', 'a1#1', 'm1', 1, 21), send('a1#2', 30)]);
    expect(odd.get('a1#1')!.trail).toEqual([send('a1#1', 10), reordered]);
    const hashed = ledgerOf([...population(), send('a1#1', 10, { sha256: ['ab'] }), ack('a1#1', 'm1', 1, 15), deliver('c1', 'a1#1', 'm1', 1, 20), deliver('a2', 'a1#1', 'm1', 1, 21), send('a1#2', 30)]);
    expect(hashed.get('a1#1')!.trail).toHaveLength(2);
  });
});
