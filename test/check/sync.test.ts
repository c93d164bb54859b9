import { describe, expect, it } from 'vitest';
import { foldChecker } from '../../src/check/fold.ts';
import { SyncChecker } from '../../src/check/sync.ts';
import type { HistoryEvent, ReadEvent, UnreadEvent } from '../../src/history/events.ts';
import { ack, population, runEnd, send } from './fixtures.ts';

const unread = (device: string, account: string, count: number, atMs: number, o: Partial<UnreadEvent> = {}): UnreadEvent => ({
  type: 'unread',
  atMs,
  device,
  account,
  conv: 'conv1',
  count,
  ...o,
});
const read = (device: string, account: string, seq: number, atMs: number): ReadEvent => ({ type: 'read', atMs, device, account, conv: 'conv1', seq });

function run(events: HistoryEvent[]) {
  const c = foldChecker((ledger) => new SyncChecker(ledger), events);
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

  it('does not judge final counts of a run that ended early (the same history fails when it completed)', () => {
    const events = [...population(), send('c1#1', 0), ack('c1#1', 'm1', 1, 10), unread('a1', 'agent', 2, 30), unread('a2', 'agent', 1, 30)];
    expect(run([...events, runEnd(100)]).r.status).toBe('fail');
    const { r } = run([...events, { type: 'run-end', atMs: 100, reason: 'harness-overloaded' }]);
    expect(r.status).toBe('not-checked');
    expect(r.note).toMatch(/ended early \(harness-overloaded\)/);
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

const disconnect = (device: string, atMs: number): HistoryEvent => ({ type: 'disconnect', atMs, device, reason: 'closed 1006', intentional: false });
const connect = (device: string, atMs: number): HistoryEvent => ({ type: 'connect', atMs, device, attempt: 1 });
const connected = (device: string, atMs: number): HistoryEvent => ({ type: 'connected', atMs, device, tookMs: 50 });
const agentFault = (phase: 'start' | 'end', atMs: number): HistoryEvent => ({
  type: 'fault',
  atMs,
  phase,
  fault: 'f0',
  network: 'cn-agents',
  action: 'toxic',
  description: 'bandwidth downstream rate=1',
});

describe('sync staleness', () => {
  it('fails a device that keeps a count the conversation no longer has for longer than the bound, even if a later push corrects it', () => {
    // The `stale-unread` defect: a2 misses the push after a1's read and shows 1 until the next
    // message's push, 7 s later. The final counts are right, so only the staleness rule sees it.
    const { r } = run([
      ...population(),
      send('c1#1', 0),
      ack('c1#1', 'm1', 1, 10),
      unread('a1', 'agent', 1, 30),
      unread('a2', 'agent', 1, 30),
      read('a1', 'agent', 1, 1_000),
      unread('a1', 'agent', 0, 1_010),
      send('c1#2', 8_000),
      ack('c1#2', 'm2', 2, 8_010),
      unread('a1', 'agent', 1, 8_030),
      unread('a2', 'agent', 1, 8_030),
      runEnd(9_000),
    ]);
    expect(r).toMatchObject({ status: 'fail', count: 1 });
    expect(r.metrics).toMatchObject({ staleStretches: 1, wrongAtEnd: 0 });
    const w = r.witnesses[0]!;
    expect(w.device).toBe('a2');
    expect(w.summary).toMatch(/a2 \(account agent\) showed unread 1 for conv1 for 7\d{3} ms while connected \(bound 5000 ms\) while the right value was 0/);
    expect(w.trail.map((e) => e.type)).toEqual(['unread', 'read', 'unread', 'ack']);
  });

  it('honours a stated bound', () => {
    const c = foldChecker((ledger) => new SyncChecker(ledger, { maxStaleMs: 10_000 }), [
      ...population(),
      send('c1#1', 0),
      ack('c1#1', 'm1', 1, 10),
      unread('a1', 'agent', 1, 30),
      unread('a2', 'agent', 1, 30),
      read('a1', 'agent', 1, 1_000),
      unread('a1', 'agent', 0, 1_010),
      send('c1#2', 8_000),
      ack('c1#2', 'm2', 2, 8_010),
      unread('a1', 'agent', 1, 8_030),
      unread('a2', 'agent', 1, 8_030),
      runEnd(9_000),
    ]);
    expect(c.result()).toMatchObject({ status: 'pass', metrics: { staleStretches: 0, longestStaleMs: 7_000 } });
  });

  it('passes a device that lags one push behind a busy conversation for longer than the bound', () => {
    // A message every 100 ms for 8 s; a2's push for each lands 150 ms after the ack, when the
    // next message is already stored: a2 is never exactly right, but never more than 150 ms old.
    const events: HistoryEvent[] = [...population()];
    for (let n = 1; n <= 80; n++) {
      const t = n * 100;
      events.push(send(`c1#${n}`, t), ack(`c1#${n}`, `m${n}`, n, t + 5));
      if (n > 1) events.push(unread('a2', 'agent', n - 1, t + 55));
      events.push(unread('a1', 'agent', n, t + 10));
    }
    events.push(unread('a2', 'agent', 80, 8_200), runEnd(9_000));
    const { r } = run(events.sort((a, b) => a.atMs - b.atMs));
    expect(r).toMatchObject({ status: 'pass', metrics: { staleStretches: 0 } });
    expect(r.metrics?.['longestStaleMs']).toBeLessThan(200);
  });

  it('does not count time while a fault of the device\'s network is active', () => {
    const { r } = run([
      ...population(),
      send('c1#1', 0),
      ack('c1#1', 'm1', 1, 10),
      unread('a1', 'agent', 1, 30),
      unread('a2', 'agent', 1, 30),
      agentFault('start', 500),
      read('a1', 'agent', 1, 1_000),
      unread('a1', 'agent', 0, 1_010),
      agentFault('end', 6_000),
      unread('a2', 'agent', 0, 9_000),
      runEnd(10_000),
    ]);
    // 8 s stale, but only 3 s of it after the fault ended.
    expect(r).toMatchObject({ status: 'pass', metrics: { staleStretches: 0, longestStaleMs: 3_000 } });
  });

  it('still fails a stale count that outlasts the fault by more than the bound', () => {
    const { r } = run([
      ...population(),
      send('c1#1', 0),
      ack('c1#1', 'm1', 1, 10),
      unread('a1', 'agent', 1, 30),
      unread('a2', 'agent', 1, 30),
      agentFault('start', 500),
      read('a1', 'agent', 1, 1_000),
      unread('a1', 'agent', 0, 1_010),
      agentFault('end', 2_000),
      unread('a2', 'agent', 0, 9_000),
      runEnd(10_000),
    ]);
    expect(r).toMatchObject({ status: 'fail', count: 1, metrics: { staleStretches: 1 } });
    expect(r.witnesses[0]!.trail.map((e) => e.type)).toContain('fault');
  });
});

describe('sync across reconnects and unknown reads', () => {
  it('does not judge the count of a device that reconnected and has not reported since (welcome is not recorded)', () => {
    // a2 is offline during a1's read; the server tells it 0 in `welcome` on reconnect.
    const { r } = run([
      ...population(),
      send('c1#1', 0),
      ack('c1#1', 'm1', 1, 10),
      unread('a1', 'agent', 1, 30),
      unread('a2', 'agent', 1, 30),
      disconnect('a2', 500),
      read('a1', 'agent', 1, 1_000),
      unread('a1', 'agent', 0, 1_010),
      connect('a2', 2_000),
      connected('a2', 2_100),
      runEnd(10_000),
    ]);
    expect(r).toMatchObject({ status: 'pass', metrics: { unknownAtEnd: 1, wrongAtEnd: 0 } });
    expect(r.note).toMatch(/welcome/);
  });

  it('judges a reconnected device again once it reports', () => {
    const { r } = run([
      ...population(),
      send('c1#1', 0),
      ack('c1#1', 'm1', 1, 10),
      unread('a1', 'agent', 1, 30),
      unread('a2', 'agent', 1, 30),
      disconnect('a2', 500),
      read('a1', 'agent', 1, 1_000),
      unread('a1', 'agent', 0, 1_010),
      connect('a2', 2_000),
      unread('a2', 'agent', 1, 2_050),
      connected('a2', 2_100),
      runEnd(3_000),
    ]);
    expect(r).toMatchObject({ status: 'fail', count: 1, metrics: { wrongAtEnd: 1, unknownAtEnd: 0 } });
  });

  it('accepts either count after a read whose reader lost its connection before the server answered', () => {
    const { r } = run([
      ...population(),
      send('c1#1', 0),
      ack('c1#1', 'm1', 1, 10),
      unread('a1', 'agent', 1, 30),
      unread('a2', 'agent', 1, 30),
      read('a1', 'agent', 1, 1_000),
      disconnect('a1', 1_001),
      connect('a1', 1_500),
      unread('a1', 'agent', 1, 1_550),
      connected('a1', 1_600),
      runEnd(10_000),
    ]);
    expect(r).toMatchObject({ status: 'pass', metrics: { unknownReads: 1, staleStretches: 0, wrongAtEnd: 0 } });
  });

  it('judges a reconnected device from its welcome count at once: right passes, wrong fails', () => {
    const upTo = (welcome: number): HistoryEvent[] => [
      ...population(),
      send('c1#1', 0),
      ack('c1#1', 'm1', 1, 10),
      unread('a1', 'agent', 1, 30),
      unread('a2', 'agent', 1, 30),
      disconnect('a2', 500),
      read('a1', 'agent', 1, 1_000),
      unread('a1', 'agent', 0, 1_010, { readSeq: 1 }),
      connect('a2', 2_000),
      unread('a2', 'agent', welcome, 2_050, { readSeq: 1, source: 'welcome' }),
      connected('a2', 2_100),
      runEnd(10_000),
    ];
    expect(run(upTo(0)).r).toMatchObject({ status: 'pass', metrics: { unknownAtEnd: 0, wrongAtEnd: 0 } });
    expect(run(upTo(0)).r.note).toBeUndefined();
    // The server greets a2 with the count from before the read: stale for 8 s, and wrong at the end.
    const { r } = run(upTo(1));
    expect(r).toMatchObject({ status: 'fail', metrics: { unknownAtEnd: 0, wrongAtEnd: 1 } });
    expect(r.witnesses.some((w) => w.device === 'a2' && /ends with unread 1 .*expected 0/.test(w.summary))).toBe(true);
  });

  it('settles a read of unknown outcome by the read seq a later report carries', () => {
    const { r } = run([
      ...population(),
      send('c1#1', 0),
      ack('c1#1', 'm1', 1, 10),
      unread('a1', 'agent', 1, 30, { readSeq: 0 }),
      unread('a2', 'agent', 1, 30, { readSeq: 0 }),
      read('a1', 'agent', 1, 1_000),
      disconnect('a1', 1_001),
      // Unknown outcome: a2 showing 1 is accepted... until the welcome says the read was applied.
      connect('a1', 1_500),
      unread('a1', 'agent', 0, 1_550, { readSeq: 1, source: 'welcome' }),
      connected('a1', 1_600),
      runEnd(3_000),
    ]);
    expect(r).toMatchObject({ status: 'fail', count: 1, metrics: { unknownReads: 1, wrongAtEnd: 1 } });
    expect(r.witnesses[0]!.device).toBe('a2');
  });

  it('does not take a push sent before the read was handled (read seq below it) as the answer to that read', () => {
    const { r } = run([
      ...population(),
      send('c1#1', 0),
      ack('c1#1', 'm1', 1, 10),
      unread('a1', 'agent', 1, 30, { readSeq: 0 }),
      unread('a2', 'agent', 1, 30, { readSeq: 0 }),
      read('a1', 'agent', 1, 1_000),
      // Coalesced with an earlier burst, this push predates the read: the read is still pending.
      unread('a1', 'agent', 1, 1_005, { readSeq: 0 }),
      runEnd(1_100),
    ]);
    expect(r).toMatchObject({ status: 'pass', metrics: { wrongAtEnd: 0 } });
  });

  it('does not call a sibling stale while the reader has not had the server\'s answer yet', () => {
    const { r } = run([
      ...population(),
      send('c1#1', 0),
      ack('c1#1', 'm1', 1, 10),
      unread('a1', 'agent', 1, 30),
      unread('a2', 'agent', 1, 30),
      read('a1', 'agent', 1, 1_000),
      // The read crawls upstream for 7 s (say, a stalled link); nothing is wrong meanwhile.
      unread('a1', 'agent', 0, 8_000),
      unread('a2', 'agent', 0, 8_000),
      runEnd(9_000),
    ]);
    expect(r).toMatchObject({ status: 'pass', metrics: { staleStretches: 0 } });
  });

  it('does not date a count back past the device\'s previous report when the count runs a moment ahead of the history', () => {
    const { r } = run([
      ...population(),
      send('c1#1', 0),
      ack('c1#1', 'm1', 1, 10),
      send('c1#2', 15),
      ack('c1#2', 'm2', 2, 20),
      unread('a1', 'agent', 2, 30),
      unread('a2', 'agent', 2, 30),
      read('a1', 'agent', 2, 100),
      unread('a1', 'agent', 0, 110),
      unread('a2', 'agent', 0, 110),
      send('c1#3', 4990),
      ack('c1#3', 'm3', 3, 5000),
      unread('a1', 'agent', 1, 5010),
      unread('a2', 'agent', 1, 5010),
      // The push for message 4 is recorded 10 ms before the message itself: a count of 2 is
      // new here, not the stale 2 of before the read at 100 ms.
      send('c1#4', 11_900),
      unread('a1', 'agent', 2, 11_990),
      unread('a2', 'agent', 2, 11_990),
      ack('c1#4', 'm4', 4, 12_000),
      runEnd(13_000),
    ]);
    expect(r.status).toBe('pass');
    expect(r.count).toBe(0);
  });
});
