import { describe, expect, it } from 'vitest';
import { foldChecker } from '../../src/check/fold.ts';
import { IsolationChecker } from '../../src/check/isolation.ts';
import type { HistoryEvent } from '../../src/history/events.ts';
import { clean, deliver, population, runEnd, send } from './fixtures.ts';

function run(events: HistoryEvent[]) {
  const c = foldChecker((ledger) => new IsolationChecker(ledger), events);
  return c.result();
}

describe('isolation', () => {
  it('is not-checked without deliveries', () => {
    expect(run([...population(), runEnd(10)]).status).toBe('not-checked');
  });

  it('passes when only members receive', () => {
    expect(run([...population(), ...clean('a1#1', 'm1', 1, 10), runEnd(100)]).status).toBe('pass');
  });

  it('fails when a device of a non-member account receives a conversation\'s message', () => {
    const r = run([...population(), send('a1#1', 10), deliver('o1', 'a1#1', 'm1', 1, 20), runEnd(100)]);
    expect(r.status).toBe('fail');
    expect(r.witnesses[0]).toMatchObject({ device: 'o1', key: 'a1#1' });
    expect(r.witnesses[0]!.trail.map((e) => e.type)).toEqual(['conv', 'send', 'deliver']);
  });

  it('accepts a delivery to a member removed after the message was sent', () => {
    const r = run([
      ...population(),
      send('a1#1', 10),
      { type: 'conv', atMs: 15, conv: 'conv1', kind: 'group', members: ['agent'] },
      deliver('c1', 'a1#1', 'm1', 1, 20),
      runEnd(100),
    ]);
    expect(r.status).toBe('pass');
  });
});
