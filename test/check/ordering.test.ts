import { describe, expect, it } from 'vitest';
import { foldChecker } from '../../src/check/fold.ts';
import { OrderingChecker } from '../../src/check/ordering.ts';
import type { HistoryEvent } from '../../src/history/events.ts';
import { ack, clean, deliver, population, runEnd, send } from './fixtures.ts';

function run(events: HistoryEvent[]) {
  const c = foldChecker((ledger) => new OrderingChecker(ledger), events);
  return c.result();
}

describe('ordering', () => {
  it('is not-checked on an empty history', () => {
    expect(run([]).status).toBe('not-checked');
  });

  it('passes messages placed and shown in send order', () => {
    const r = run([...population(), ...clean('a1#1', 'm1', 1, 10), ...clean('a1#2', 'm2', 2, 20), runEnd(100)]);
    expect(r).toMatchObject({ status: 'pass', count: 0 });
  });

  it('fails when a device shows a sender\'s later message before its earlier one', () => {
    const r = run([
      ...population(),
      send('a1#1', 10),
      send('a1#2', 20),
      ack('a1#1', 'm1', 1, 25),
      ack('a1#2', 'm2', 2, 26),
      deliver('c1', 'a1#2', 'm2', 2, 30),
      deliver('c1', 'a1#1', 'm1', 1, 31),
      runEnd(100),
    ]);
    expect(r.status).toBe('fail');
    expect(r.metrics?.['receiverFifo']).toBe(1);
    const w = r.witnesses[0]!;
    expect(w.device).toBe('c1');
    expect(w.trail.filter((e) => e.type === 'deliver').map((e) => (e as { key: string }).key)).toEqual(['a1#2', 'a1#1']);
  });

  it('fails when the server places a sequentially sent earlier message after a later one', () => {
    const r = run([...population(), send('a1#1', 10), send('a1#2', 20), ack('a1#2', 'm2', 1, 25), ack('a1#1', 'm1', 2, 26), runEnd(100)]);
    expect(r.status).toBe('fail');
    expect(r.metrics?.['serverFifo']).toBe(1);
  });

  it('compares a placement with the sender\'s last 32 placed messages, across the ring\'s wrap-around', () => {
    // a1#1..a1#40 sent one after another and placed in order at seqs 102, 104, ..., 180.
    const inOrder = Array.from({ length: 40 }, (_, i) => [send(`a1#${i + 1}`, 10 * (i + 1)), ack(`a1#${i + 1}`, `m${i + 1}`, 102 + 2 * i, 10 * (i + 1) + 5)]).flat();
    // a1#41, sent after all of them, placed at seq 111: after a1#1..a1#5 but before a1#6..a1#40.
    // Only the last 32 placed (a1#9..a1#40) are still compared with: 32 violations, not 35.
    const late = run([...population(), ...inOrder, send('a1#41', 1000), ack('a1#41', 'm41', 111, 1005), runEnd(2000)]);
    expect(late.metrics?.['serverFifo']).toBe(32);
    expect(late.witnesses[0]!.summary).toContain('a1#9 was written before a1#41 was first sent');
    // The mirror case: the lowest counter placed last, after two later messages.
    const early = run([
      ...population(),
      send('a1#1', 10),
      send('a1#2', 20),
      send('a1#3', 30),
      ack('a1#2', 'm2', 102, 35),
      ack('a1#3', 'm3', 103, 36),
      ack('a1#1', 'm1', 104, 40),
      runEnd(100),
    ]);
    expect(early.metrics?.['serverFifo']).toBe(2);
    expect(early.witnesses[0]!.summary).toContain('a1#1 was written before a1#2 was first sent, yet the server placed it after: seq 104 > 102');
  });

  it('accepts an earlier message landing later when it was resent after the later one was sent', () => {
    const r = run([
      ...population(),
      send('a1#1', 10),
      send('a1#2', 20),
      send('a1#1', 30, { attempt: 2, intendedMs: 10 }),
      ack('a1#2', 'm2', 1, 35),
      ack('a1#1', 'm1', 2, 36),
      runEnd(100),
    ]);
    expect(r.status).toBe('pass');
  });

  it('fails when two devices see one message at different seqs', () => {
    const r = run([...population(), send('a1#1', 10), deliver('c1', 'a1#1', 'm1', 1, 20), deliver('a2', 'a1#1', 'm1', 3, 21), runEnd(100)]);
    expect(r.status).toBe('fail');
    expect(r.metrics?.['disagreement']).toBe(1);
  });

  it('fails when two messages hold the same seq of a conversation', () => {
    const r = run([...population(), send('a1#1', 10), send('c1#1', 11), ack('a1#1', 'm1', 1, 20), ack('c1#1', 'm2', 1, 21), runEnd(100)]);
    expect(r.status).toBe('fail');
    expect(r.metrics?.['seqConflict']).toBe(1);
  });

  it('fails when a device receives live an older message of another sender after a newer one', () => {
    // The `reorder` defect's cross-sender swap: c1#1 (seq 1) held back and pushed after a1#1 (seq 2).
    const r = run([
      ...population(),
      send('c1#1', 10),
      send('a1#1', 11),
      ack('c1#1', 'm1', 1, 20),
      ack('a1#1', 'm2', 2, 21),
      deliver('a2', 'a1#1', 'm2', 2, 30),
      deliver('a2', 'c1#1', 'm1', 1, 31),
      runEnd(100),
    ]);
    expect(r).toMatchObject({ status: 'fail', count: 1 });
    expect(r.metrics).toMatchObject({ arrivalOrder: 1, receiverFifo: 0, outOfOrder: 1 });
    const w = r.witnesses[0]!;
    expect(w.device).toBe('a2');
    expect(w.summary).toMatch(/a2 received c1#1 \(seq 1\) live after a1#1 \(seq 2\)/);
    expect(w.trail.filter((e) => e.type === 'deliver').map((e) => (e as { key: string }).key)).toEqual(['a1#1', 'c1#1']);
  });

  it('counts a replayed older message arriving after a newer one as out-of-order without failing', () => {
    const r = run([
      ...population(),
      send('c1#1', 10),
      send('a1#1', 11),
      ack('c1#1', 'm1', 1, 20),
      ack('a1#1', 'm2', 2, 21),
      deliver('a2', 'a1#1', 'm2', 2, 30),
      deliver('a2', 'c1#1', 'm1', 1, 31, { replay: true }),
      runEnd(100),
    ]);
    expect(r.status).toBe('pass');
    expect(r.metrics).toMatchObject({ arrivalOrder: 0, outOfOrder: 1 });
  });

  it('leaves arrivals at a device outside the conversation to the isolation check', () => {
    const r = run([
      ...population(),
      send('c1#1', 10),
      send('a1#1', 11),
      ack('c1#1', 'm1', 1, 20),
      ack('a1#1', 'm2', 2, 21),
      deliver('a2', 'c1#1', 'm1', 1, 22),
      deliver('a2', 'a1#1', 'm2', 2, 23),
      deliver('o1', 'a1#1', 'm2', 2, 30),
      deliver('o1', 'c1#1', 'm1', 1, 31),
      runEnd(100),
    ]);
    expect(r.status).toBe('pass');
    expect(r.metrics).toMatchObject({ arrivalOrder: 0, outOfOrder: 1 });
  });

  it('ignores a replayed redelivery of a message the device already had', () => {
    const r = run([
      ...population(),
      ...clean('a1#1', 'm1', 1, 10),
      ...clean('a1#2', 'm2', 2, 20),
      deliver('c1', 'a1#1', 'm1', 1, 50, { replay: true }),
      runEnd(100),
    ]);
    expect(r.status).toBe('pass');
    expect(r.metrics?.['outOfOrder']).toBe(0);
  });
});
