import { describe, expect, it } from 'vitest';
import { foldChecker } from '../../src/check/fold.ts';
import { LossChecker } from '../../src/check/loss.ts';
import { createJudge } from '../../src/check/index.ts';
import { evaluateSlas, parseSla } from '../../src/check/sla.ts';
import type { HistoryEvent } from '../../src/history/events.ts';
import { ack, clean, deliver, nack, population, runEnd, send } from './fixtures.ts';

function run(events: HistoryEvent[]) {
  const c = foldChecker((ledger) => new LossChecker(ledger), events);
  return c.result();
}

describe('loss', () => {
  it('is not-checked on an empty history', () => {
    const r = run([]);
    expect(r.status).toBe('not-checked');
    expect(r.note).toMatch(/no sends/);
  });

  it('is not-checked when the run had zero sends', () => {
    expect(run([...population(), runEnd(100)]).status).toBe('not-checked');
  });

  it('passes when every acknowledged message reached every expected device', () => {
    const r = run([...population(), ...clean('a1#1', 'm1', 1, 10), ...clean('a1#2', 'm2', 2, 20), runEnd(100)]);
    expect(r).toMatchObject({ status: 'pass', count: 0, witnesses: [] });
  });

  it('counts the sender\'s other device as an expected recipient', () => {
    const r = run([...population(), send('a1#1', 10), ack('a1#1', 'm1', 1, 15), deliver('c1', 'a1#1', 'm1', 1, 20), runEnd(100)]);
    expect(r.status).toBe('fail');
    expect(r.count).toBe(1);
    expect(r.witnesses[0]!.device).toBe('a2');
    expect(r.witnesses[0]!.summary).toMatch(/a2/);
  });

  it('does not expect a delivery to the sending device itself', () => {
    const r = run([...population(), send('c1#1', 10), ack('c1#1', 'm1', 1, 15), deliver('a1', 'c1#1', 'm1', 1, 20), deliver('a2', 'c1#1', 'm1', 1, 21), runEnd(100)]);
    expect(r.status).toBe('pass');
  });

  it('reports an acknowledged message missing on a device, with its send, ack and disconnect in the trail', () => {
    const events: HistoryEvent[] = [
      ...population(),
      { type: 'disconnect', atMs: 5, device: 'c1', reason: 'reset', intentional: false },
      send('a1#1', 10),
      ack('a1#1', 'm1', 1, 15),
      deliver('a2', 'a1#1', 'm1', 1, 20),
      runEnd(100),
    ];
    const r = run(events);
    expect(r.status).toBe('fail');
    expect(r.metrics).toMatchObject({ missingDeliveries: 1 });
    const w = r.witnesses[0]!;
    expect(w.key).toBe('a1#1');
    expect(w.trail.map((e) => e.type)).toEqual(['disconnect', 'send', 'ack', 'deliver']);
  });

  it('does not count an unknown-outcome send that never arrived anywhere as lost', () => {
    const r = run([...population(), send('a1#1', 10), runEnd(100)]);
    expect(r.status).toBe('pass');
    expect(r.metrics?.['unknownNotStored']).toBe(1);
    expect(r.note).toMatch(/^1 of 1 send\(s\) \(100\.0 %\) got no ack and never arrived anywhere: their outcome is unknown/);
    expect(r.note).toContain("add the SLA 'loss.unknownNotStored == 0'");
  });

  it('lets the SLA the note names fail a run on sends of unknown outcome', () => {
    const events = [...population(), send('a1#1', 10), runEnd(100)];
    const judge = createJudge();
    for (const e of events) judge.step(e);
    const [r] = evaluateSlas([parseSla('loss.unknownNotStored == 0')], judge.result());
    expect(r).toMatchObject({ actual: 1, pass: false });
  });

  it('judges an unknown-outcome send that reached one device like an acknowledged one', () => {
    const r = run([...population(), send('a1#1', 10), deliver('c1', 'a1#1', 'm1', 1, 20), runEnd(100)]);
    expect(r.status).toBe('fail');
    expect(r.witnesses[0]!.device).toBe('a2');
  });

  it('does not count a definitely failed send as lost', () => {
    const r = run([...population(), send('a1#1', 10), nack('a1#1', 12), runEnd(100)]);
    expect(r.status).toBe('pass');
    expect(r.metrics?.['failed']).toBe(1);
  });

  it('treats a resend (attempt 2) as the same message', () => {
    const r = run([
      ...population(),
      send('a1#1', 10),
      send('a1#1', 1010, { attempt: 2, intendedMs: 10 }),
      ack('a1#1', 'm1', 1, 1015),
      deliver('c1', 'a1#1', 'm1', 1, 1020),
      deliver('a2', 'a1#1', 'm1', 1, 1021),
      runEnd(2000),
    ]);
    expect(r.status).toBe('pass');
    expect(r.metrics?.['messages']).toBe(1);
  });

  it('says not-checked, never pass, when the history has no run-end', () => {
    const r = run([...population(), ...clean('a1#1', 'm1', 1, 10)]);
    expect(r.status).toBe('not-checked');
    expect(r.note).toMatch(/run-end/);
  });

  it('says not-checked, never fail, when the run ended early: what was in flight is not the server\'s loss', () => {
    const events = [...population(), send('a1#1', 10), ack('a1#1', 'm1', 1, 15)];
    expect(run([...events, runEnd(100)]).status).toBe('fail');
    const r = run([...events, { type: 'run-end', atMs: 100, reason: 'interrupted' }]);
    expect(r.status).toBe('not-checked');
    expect(r.note).toMatch(/ended early \(interrupted\)/);
    expect(r.metrics?.['undeliveredAtEnd']).toBeGreaterThan(0);
  });
});
