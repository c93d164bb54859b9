/**
 * The ledger's step returns what it learned about each event; settled records keep their server
 * ids and a compact trail, while the note of the settling event still carries the full one.
 */
import { describe, expect, it } from 'vitest';
import { Ledger, idCount, serverIds, type LedgerNote } from '../../src/check/ledger.ts';
import type { HistoryEvent } from '../../src/history/events.ts';
import { ack, clean, deliver, population, send } from './fixtures.ts';

function ledgerOf(events: HistoryEvent[], options?: { retainSettledMs?: number }): { ledger: Ledger; notes: LedgerNote[] } {
  const ledger = new Ledger(options);
  const notes = events.map((e) => ledger.step(e));
  return { ledger, notes };
}

describe('ledger', () => {
  it('keeps every server id of a key, in order of discovery', () => {
    const { ledger } = ledgerOf([...population(), send('a1#1', 10), ack('a1#1', 'm1', 1, 15), deliver('c1', 'a1#1', 'm2', 2, 20), deliver('a2', 'a1#1', 'm3', 3, 25)]);
    const m = ledger.get('a1#1')!;
    expect(idCount(m)).toBe(3);
    expect(serverIds(m)).toEqual([['m1', 1], ['m2', 2], ['m3', 3]]);
    const single = ledgerOf([...population(), ...clean('a1#2', 'x1', 7, 10)]).ledger.get('a1#2')!;
    expect(serverIds(single)).toEqual([['x1', 7]]);
  });

  it('notes each delivery as first, redelivery or orphan, and whether the device was expected', () => {
    const { notes } = ledgerOf([
      ...population(),
      send('a1#1', 10),
      deliver('c1', 'a1#1', 'm1', 1, 20),
      deliver('c1', 'a1#1', 'm1', 1, 21),
      deliver('o1', 'a1#1', 'm1', 1, 22),
      deliver('c1', 'zz#9', 'm9', 9, 23),
    ]);
    expect(notes.slice(-4).map((n) => n.type === 'deliver' && [n.cls, n.expected, n.firstForDevice, n.newId])).toEqual([
      ['first', true, true, true],
      ['redelivery', true, false, false],
      ['first', false, true, false],
      ['orphan', false, false, false],
    ]);
  });

  it('tracks a settled message at a device that was not expected, apart from other settled messages', () => {
    const { ledger } = ledgerOf([...population(), ...clean('a1#1', 'm1', 1, 10), ...clean('a1#2', 'm2', 2, 20), send('a1#3', 30)]);
    const one = ledger.get('a1#1')!;
    const two = ledger.get('a1#2')!;
    expect(one.settledAtMs).toBeDefined();
    expect(two.settledAtMs).toBeDefined();
    expect(ledger.step(deliver('o1', 'a1#1', 'm1', 1, 40))).toMatchObject({ type: 'deliver', cls: 'first', expected: false, firstForDevice: true });
    expect(ledger.step(deliver('o1', 'a1#1', 'm1', 1, 50))).toMatchObject({ type: 'deliver', cls: 'redelivery' });
    expect(ledger.step(deliver('o1', 'a1#2', 'm2', 2, 60))).toMatchObject({ type: 'deliver', cls: 'first', firstForDevice: true });
    expect(ledger.get('a1#3')!.missing).toEqual(new Set(['a2', 'c1']));
  });

  it('gives the settling event the full trail and keeps a compact one on the record', () => {
    const events = [...population(), send('a1#1', 10), ack('a1#1', 'm1', 1, 15), deliver('c1', 'a1#1', 'm1', 1, 20), deliver('a2', 'a1#1', 'm1', 1, 21)];
    const { ledger, notes } = ledgerOf(events);
    const settling = notes.at(-1)!;
    expect(settling.type === 'deliver' && settling.trail.map((e) => e.type)).toEqual(['send', 'ack', 'deliver', 'deliver']);
    expect(ledger.get('a1#1')!.trail).toEqual([events.at(-4), events.at(-3)]);
    // A later ack revealing a second id joins the compact trail.
    expect(ledger.step(ack('a1#1', 'm9', 9, 40))).toMatchObject({ type: 'ack', newId: true });
    expect(ledger.get('a1#1')!.trail.map((e) => e.type === 'ack' && e.id)).toEqual([false, 'm1', 'm9']);
  });

  it('keeps resends and the delivery that revealed an id no ack showed in the compact trail', () => {
    const { ledger } = ledgerOf([...population(), send('a1#1', 10), send('a1#1', 12, { attempt: 2 }), ack('a1#1', 'm1', 1, 15), deliver('c1', 'a1#1', 'm2', 2, 20), deliver('a2', 'a1#1', 'm1', 1, 21)]);
    expect(ledger.get('a1#1')!.trail.map((e) => `${e.type}${e.type === 'deliver' ? ` ${e.id}` : ''}`)).toEqual(['send', 'send', 'ack', 'deliver m2']);
  });

  it('says which records it retired, once, and classifies their later arrivals as late', () => {
    const { ledger, notes } = ledgerOf([...population(), ...clean('a1#1', 'm1', 1, 10), send('a1#2', 5_000)], { retainSettledMs: 1_000 });
    expect(notes.at(-1)!.retired.map((m) => m.key)).toEqual(['a1#1']);
    expect(notes.slice(0, -1).every((n) => n.retired.length === 0)).toBe(true);
    expect(ledger.get('a1#1')).toBeUndefined();
    expect(ledger.step(deliver('c1', 'a1#1', 'm1', 1, 5_001))).toMatchObject({ type: 'deliver', cls: 'late', msg: undefined });
  });
});
