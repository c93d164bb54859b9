import { describe, expect, it } from 'vitest';
import { foldChecker } from '../../src/check/fold.ts';
import { IntegrityChecker } from '../../src/check/integrity.ts';
import type { HistoryEvent, SendEvent } from '../../src/history/events.ts';
import { clean, deliver, population, runEnd, send } from './fixtures.ts';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
/** A send carrying the proposed `sha256` field (not yet in the SendEvent contract). */
const sendWithSha = (key: string, atMs: number, sha256: string[]): SendEvent => ({ ...send(key, atMs, { kind: 'image' }), sha256 } as SendEvent);

function run(events: HistoryEvent[]) {
  const c = foldChecker((ledger) => new IntegrityChecker(ledger), events);
  return c.result();
}

describe('integrity', () => {
  it('is not-checked when the run has no attachments', () => {
    const r = run([...population(), ...clean('a1#1', 'm1', 1, 10), runEnd(100)]);
    expect(r).toMatchObject({ status: 'not-checked', note: 'no attachments in the run' });
  });

  it('is not-checked when sends record no sha256, even though deliveries do', () => {
    const r = run([...population(), send('a1#1', 10, { kind: 'image' }), deliver('c1', 'a1#1', 'm1', 1, 20, { sha256: [A] }), runEnd(100)]);
    expect(r.status).toBe('not-checked');
    expect(r.note).toMatch(/SendEvent has no sha256/);
  });

  it('passes attachments that arrive byte-identical', () => {
    const r = run([...population(), sendWithSha('a1#1', 10, [A, B]), deliver('c1', 'a1#1', 'm1', 1, 20, { sha256: [A, B] }), runEnd(100)]);
    expect(r).toMatchObject({ status: 'pass', metrics: { verified: 1 } });
  });

  it('fails a corrupted, reordered or missing attachment with a witness', () => {
    const r = run([
      ...population(),
      sendWithSha('a1#1', 10, [A, B]),
      deliver('c1', 'a1#1', 'm1', 1, 20, { sha256: [B, A] }),
      deliver('a2', 'a1#1', 'm1', 1, 21, { sha256: [A] }),
      runEnd(100),
    ]);
    expect(r.status).toBe('fail');
    expect(r.count).toBe(2);
    expect(r.witnesses[0]!.trail.map((e) => e.type)).toEqual(['send', 'deliver']);
  });
});
