/**
 * XMPP archives give each recipient's copy its own stanza-id (`serverIds: 'per-copy'`). A naive
 * resend that the server stores again reaches the recipients after the first copies already
 * settled the message: the duplicates check must still see one key under two ids on a device.
 */
import { describe, expect, it } from 'vitest';
import { foldChecker } from '../../src/check/index.ts';
import { DuplicatesChecker } from '../../src/check/duplicates.ts';
import type { HistoryEvent } from '../../src/history/events.ts';
import { deliver, population, runEnd, send } from '../check/fixtures.ts';

const perCopy = (): HistoryEvent[] => {
  const [start, ...rest] = population();
  const declaration = { name: 'xmpp (naive)', ordering: 'none', serverIds: 'per-copy', unreadCounts: false, historyPages: false, clientIds: false, resumption: false } as const;
  return [{ ...start!, driver: declaration } as HistoryEvent, ...rest];
};
const ack = (key: string, atMs: number): HistoryEvent => ({ type: 'ack', atMs, device: 'a1', conv: 'conv1', key });
const noSeq = { seq: undefined };

describe('duplicates with per-copy server ids', () => {
  it('reports a key shown twice on a device under two ids after the message had settled, with send, kill and resend in the witness', () => {
    const c = foldChecker((l) => new DuplicatesChecker(l), [
      ...perCopy(),
      send('a1#1', 100),
      deliver('c1', 'a1#1', 'c-first', 0, 105, noSeq),
      deliver('a2', 'a1#1', 'a-first', 0, 106, noSeq),
      { type: 'disconnect', atMs: 110, device: 'a1', reason: 'killed by fault', intentional: true },
      send('a1#1', 400, { attempt: 2 }),
      deliver('c1', 'a1#1', 'c-second', 0, 405, noSeq),
      deliver('a2', 'a1#1', 'a-second', 0, 406, noSeq),
      ack('a1#1', 410),
      runEnd(1000),
    ]);
    const r = c.result();
    expect(r.status).toBe('fail');
    expect(r.count).toBe(2);
    const w = r.witnesses[0]!;
    expect(w.summary).toBe('a1#1 in conv1 was shown twice on c1, the second time as c-second');
    expect(w.trail.map((e) => (e.type === 'send' ? `send#${e.attempt}` : e.type === 'deliver' ? `deliver ${e.id}` : e.type))).toEqual(
      expect.arrayContaining(['send#1', 'send#2', 'deliver c-first', 'deliver c-second']),
    );
  });

  it('passes the same key delivered again under the same id (a replay after a resume), counted as redelivery', () => {
    const c = foldChecker((l) => new DuplicatesChecker(l), [
      ...perCopy(),
      send('a1#1', 100),
      deliver('c1', 'a1#1', 'c-first', 0, 105, noSeq),
      deliver('a2', 'a1#1', 'a-first', 0, 106, noSeq),
      ack('a1#1', 110),
      deliver('c1', 'a1#1', 'c-first', 0, 500, { seq: undefined, replay: true }),
      runEnd(1000),
    ]);
    expect(c.result().status).toBe('pass');
    expect(c.result().count).toBe(0);
  });
});
