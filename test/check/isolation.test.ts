import { describe, expect, it } from 'vitest';
import { foldChecker } from '../../src/check/fold.ts';
import { IsolationChecker } from '../../src/check/isolation.ts';
import type { FetchEvent, HistoryEvent } from '../../src/history/events.ts';
import { ack, clean, deliver, population, runEnd, send } from './fixtures.ts';

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

  describe('attachment probes', () => {
    const fetch = (device: string, outcome: FetchEvent['outcome'], atMs: number, code?: string): FetchEvent => ({
      type: 'fetch',
      atMs,
      device,
      account: device === 'o1' ? 'other' : 'customer',
      conv: 'conv1',
      key: 'a1#1',
      attachment: 'a42',
      outcome,
      ...(code === undefined ? {} : { code }),
    });
    const withAttachment = (): HistoryEvent[] => [
      send('a1#1', 10, { kind: 'image' }),
      ack('a1#1', 'm1', 1, 15),
      deliver('c1', 'a1#1', 'm1', 1, 20, { attachments: ['a42'] }),
      deliver('a2', 'a1#1', 'm1', 1, 21, { attachments: ['a42'] }),
    ];

    it('passes and counts a probe the server refused', () => {
      const r = run([...population(), ...withAttachment(), fetch('o1', 'refused', 30, 'not-member'), runEnd(100)]);
      expect(r.status).toBe('pass');
      expect(r.metrics).toMatchObject({ attachmentProbes: 1, attachmentRefused: 1, attachmentLeaks: 0 });
      expect(r.note).toBeUndefined();
    });

    it('fails with a witness when an attachment is served to a device outside its conversation', () => {
      const r = run([...population(), ...withAttachment(), fetch('o1', 'served', 30), runEnd(100)]);
      expect(r.status).toBe('fail');
      expect(r.count).toBe(1);
      expect(r.metrics).toMatchObject({ attachmentProbes: 1, attachmentLeaks: 1 });
      const w = r.witnesses[0]!;
      expect(w).toMatchObject({ device: 'o1', key: 'a1#1', atMs: 30 });
      expect(w.summary).toBe('o1 (account other) was served attachment a42 of a1#1 in conv1, whose members are agent, customer');
      // The message's trail as the ledger keeps it (a settled message keeps its send and ack), then the probe.
      const types = w.trail.map((e) => e.type);
      expect(types[0]).toBe('conv');
      expect(types).toContain('send');
      expect(types.at(-1)).toBe('fetch');
    });

    it('does not blame a member being served, and notes probes that got no answer', () => {
      const r = run([...population(), ...withAttachment(), fetch('c1', 'served', 30), fetch('o1', 'unknown', 40, 'connection closed 1006'), runEnd(100)]);
      expect(r.status).toBe('pass');
      expect(r.note).toBe('1 of 2 attachment probes got no answer');
    });

    it('says attachment access was not probed when attachments were delivered but nobody probed', () => {
      const r = run([...population(), ...withAttachment(), runEnd(100)]);
      expect(r.status).toBe('pass');
      expect(r.note).toMatch(/^attachment access not probed/);
    });
  });
});
