/**
 * A synthetic, clean history of any length, generated lazily: 4 accounts × 2 devices in one
 * group conversation, a message every `gapMs`, each acked and delivered to the 7 other devices,
 * unread reports after every message, a read by each account every 40 messages, a page every
 * 500 messages, a fault every 60 s of history lasting 5 s, and a same-id replay every 100 messages.
 * Shared by the bounded-memory test and bench/check-throughput.ts.
 */
import type { HistoryEvent } from '../../src/history/events.ts';

const ACCOUNTS = ['ag1', 'ag2', 'cu1', 'cu2'];
const devicesOf = (a: string): string[] => [`${a}-d1`, `${a}-d2`];

/** Yield a clean history of at least `minEvents` events, ending with run-end. */
export function* syntheticHistory(minEvents: number, gapMs = 10): Generator<HistoryEvent> {
  let n = 0;
  let t = 0;
  yield { type: 'run-start', atMs: 0, schema: 1, runId: 'synthetic', scenario: 'synthetic', seed: 1, startedAt: '2024-01-01T00:00:00.000Z', sendWindowMs: 0, graceMs: 0 };
  for (const a of ACCOUNTS) {
    yield { type: 'account', atMs: 0, account: a, role: a.startsWith('ag') ? 'agent' : 'customer', devices: devicesOf(a), network: a.startsWith('ag') ? 'cn-agents' : 'eu-customers' };
  }
  yield { type: 'conv', atMs: 0, conv: 'g1', kind: 'group', members: ACCOUNTS };
  n += 6;
  const counters = new Map<string, number>();
  const unread = new Map<string, number>(ACCOUNTS.map((a) => [a, 0]));
  const readSeq = new Map<string, number>(ACCOUNTS.map((a) => [a, 0]));
  let seq = 0;
  let faultId = 0;
  /** seq -> key of the last 32 messages, for page contents. */
  const recentKeys = new Map<number, string>();
  while (n < minEvents) {
    t += gapMs;
    if (t % 60_000 === 0) {
      yield { type: 'fault', atMs: t, phase: 'start', fault: `f${faultId}`, network: 'eu-customers', action: 'latency', description: 'latency 200ms' };
      n++;
    }
    if (t % 60_000 === 5_000 && t > 5_000) {
      yield { type: 'fault', atMs: t, phase: 'end', fault: `f${faultId++}`, network: 'eu-customers', action: 'latency', description: 'latency 200ms' };
      n++;
    }
    seq++;
    const account = ACCOUNTS[seq % ACCOUNTS.length]!;
    const device = devicesOf(account)[(seq >> 2) % 2]!;
    const counter = (counters.get(device) ?? 0) + 1;
    counters.set(device, counter);
    const key = `${device}#${counter}`;
    const id = `m${seq}`;
    recentKeys.set(seq, key);
    recentKeys.delete(seq - 32);
    yield { type: 'send', atMs: t, device, account, conv: 'g1', key, kind: seq % 10 === 0 ? 'image' : 'text', bytes: 100, intendedMs: t - 0.5, attempt: 1 };
    yield { type: 'ack', atMs: t + 2, device, conv: 'g1', key, id, seq };
    n += 2;
    let dt = 3;
    for (const a of ACCOUNTS) {
      for (const d of devicesOf(a)) {
        if (d === device) continue;
        yield { type: 'deliver', atMs: t + dt, device: d, account: a, conv: 'g1', key, id, seq, from: device, replay: false };
        dt += 0.25;
        n++;
      }
    }
    for (const a of ACCOUNTS) {
      if (a !== account) unread.set(a, unread.get(a)! + 1);
      if (seq % 40 === ACCOUNTS.indexOf(a) * 10) {
        readSeq.set(a, seq);
        unread.set(a, 0);
        yield { type: 'read', atMs: t + 5, device: devicesOf(a)[0]!, account: a, conv: 'g1', seq };
        n++;
      }
      for (const d of devicesOf(a)) {
        yield { type: 'unread', atMs: t + 6, device: d, account: a, conv: 'g1', count: unread.get(a)! };
        n++;
      }
    }
    if (seq % 100 === 50) {
      yield { type: 'deliver', atMs: t + 7, device: 'cu1-d1', account: 'cu1', conv: 'g1', key, id, seq, from: device, replay: true };
      n++;
    }
    if (seq % 500 === 0) {
      const seqs = Array.from({ length: 20 }, (_, i) => seq - i);
      yield { type: 'page', atMs: t + 8, device: 'ag1-d1', conv: 'g1', before: seq + 1, limit: 20, seqs, keys: seqs.map((s) => recentKeys.get(s)!), hasMore: true, tookMs: 3 };
      n++;
    }
  }
  yield { type: 'run-end', atMs: t + 1000, reason: 'complete' };

}
