import { describe, expect, it } from 'vitest';
import { SyncChecker } from '../../src/check/sync.ts';
import type { HistoryEvent, ReadEvent, UnreadEvent } from '../../src/history/events.ts';
import { ack, population, runEnd, send } from './fixtures.ts';

const unread = (device: string, account: string, count: number, atMs: number): UnreadEvent => ({ type: 'unread', atMs, device, account, conv: 'conv1', count });
const read = (device: string, account: string, seq: number, atMs: number): ReadEvent => ({ type: 'read', atMs, device, account, conv: 'conv1', seq });

function run(events: HistoryEvent[]) {
  const c = new SyncChecker();
  for (const e of events) c.step(e);
  return { r: c.result(), h: c.histograms.summaries() };
}

describe('sync', () => {
  it('is not-checked when the run has no unread events', () => {
    expect(run([...population(), send('c1#1', 0), ack('c1#1', 'm1', 1, 5), runEnd(100)]).r.status).toBe('not-checked');
  });

  it('passes and times convergence when every agent device shows the right count, then zero after a read', () => {
    const { r, h } = run([
      ...population(),
      send('c1#1', 0),
      ack('c1#1', 'm1', 1, 10),
      unread('a1', 'agent', 1, 30),
      unread('a2', 'agent', 1, 60),
      read('a1', 'agent', 1, 100),
      unread('a1', 'agent', 0, 110),
      unread('a2', 'agent', 0, 400),
      runEnd(1000),
    ]);
    expect(r.status).toBe('pass');
    expect(h['sync']!.count).toBe(2);
    expect(h['sync']!.p50Ms).toBeCloseTo(50, 0);
    expect(h['sync']!.maxMs).toBeCloseTo(300, 0);
  });

  it('does not count the account\'s own messages as unread', () => {
    const { r } = run([...population(), send('a1#1', 0), ack('a1#1', 'm1', 1, 10), unread('a1', 'agent', 0, 20), unread('a2', 'agent', 0, 20), runEnd(100)]);
    expect(r.status).toBe('pass');
  });

  it('fails with a witness when another device of the account keeps a stale count', () => {
    const { r } = run([
      ...population(),
      send('c1#1', 0),
      ack('c1#1', 'm1', 1, 10),
      unread('a1', 'agent', 1, 30),
      unread('a2', 'agent', 1, 30),
      read('a1', 'agent', 1, 100),
      unread('a1', 'agent', 0, 110),
      runEnd(1000),
    ]);
    expect(r.status).toBe('fail');
    expect(r.count).toBe(1);
    expect(r.witnesses[0]!.device).toBe('a2');
    expect(r.witnesses[0]!.summary).toMatch(/ends with unread 1.*expected 0/);
    expect(r.witnesses[0]!.trail.map((e) => e.type)).toEqual(['unread', 'read']);
  });

  it('fails when a device reports a wrong value that never converges', () => {
    const { r } = run([...population(), send('c1#1', 0), ack('c1#1', 'm1', 1, 10), unread('a1', 'agent', 2, 30), unread('a2', 'agent', 1, 30), runEnd(100)]);
    expect(r.status).toBe('fail');
    expect(r.witnesses[0]!.device).toBe('a1');
  });

  it('does not judge final counts of a run without run-end', () => {
    const { r } = run([...population(), send('c1#1', 0), ack('c1#1', 'm1', 1, 10), unread('a1', 'agent', 5, 30)]);
    expect(r.status).toBe('not-checked');
  });
});

describe('sync observation', () => {
  it('fails a device that never reported while its sibling did', () => {
    const { r } = run([...population(), send('c1#1', 0), ack('c1#1', 'm1', 1, 10), unread('a1', 'agent', 1, 30), runEnd(100)]);
    expect(r.status).toBe('fail');
    expect(r.witnesses[0]!.summary).toMatch(/a2.*never reported/);
  });

  it('counts an account with no unread report for a conversation as unobserved, not failed', () => {
    const { r } = run([...population(), send('a1#1', 0), ack('a1#1', 'm1', 1, 10), unread('a1', 'agent', 0, 20), unread('a2', 'agent', 0, 20), runEnd(100)]);
    expect(r.status).toBe('pass');
    expect(r.metrics?.['unobserved']).toBe(1);
  });
});
