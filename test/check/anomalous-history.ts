/**
 * A small history with one or more defects for every check, built from the clean synthetic
 * history (test/check/synthetic-history.ts) by deterministic edits. The judge regression test
 * compares its whole verdict with values recorded before the judge's performance rework.
 *
 *   loss        every 37th message never reaches cu2-d2
 *   duplicates  message seq 100 is acked a second time under another server id
 *   ordering    at ag2-d2, the deliveries of seqs 200 and 201 arrive swapped; seq 300's copy at
 *               cu1-d2 carries seq 299 (disagreement)
 *   sync        from seq 150 to 170 cu2-d1 reports one unread too many
 *   history     the page at seq 500 leaves out its second item
 *   isolation   an account outside the conversation (x1) receives seq 120
 *   integrity   seq 60 is sent with an attachment hash; cu1-d1 receives another one
 */
import type { HistoryEvent } from '../../src/history/events.ts';
import { syntheticHistory } from './synthetic-history.ts';

const SHA_SENT = 'a'.repeat(64);
const SHA_BAD = 'b'.repeat(64);

/** The defective history, about `minEvents` events long (every defect needs about 9,000). */
export function* anomalousHistory(minEvents = 9_000): Generator<HistoryEvent> {
  let held: HistoryEvent | undefined;
  /** Messages sent so far: the synthetic history's n-th message gets seq n. */
  let sent = 0;
  for (const e of syntheticHistory(minEvents)) {
    if (e.type === 'conv') {
      yield { type: 'account', atMs: 0, account: 'x1', role: 'customer', devices: ['x1-d1'], network: 'eu-customers' };
      yield e;
      continue;
    }
    if (e.type === 'send' && ++sent === 60) {
      yield { ...e, kind: 'image', sha256: [SHA_SENT], attachmentBytes: [1000] };
      continue;
    }
    if (e.type === 'ack') {
      yield e;
      if (e.seq === 100) yield { ...e, atMs: e.atMs + 0.1, id: `${e.id}-again`, seq: 100_000 };
      continue;
    }
    if (e.type === 'deliver') {
      if (e.device === 'cu2-d2' && e.seq! % 37 === 0) continue;
      if (e.seq === 120 && e.device === 'cu1-d1') yield { ...e, device: 'x1-d1', account: 'x1' };
      if (e.seq === 60 && e.device === 'cu1-d1' && !e.replay) {
        yield { ...e, sha256: [SHA_BAD] };
        continue;
      }
      if (e.seq === 300 && e.device === 'cu1-d2') {
        yield { ...e, seq: 299 };
        continue;
      }
      if (e.device === 'ag2-d2' && e.seq === 200 && !e.replay) {
        held = e;
        continue;
      }
      if (e.device === 'ag2-d2' && e.seq === 201 && held !== undefined && !e.replay) {
        yield e;
        yield { ...held, atMs: e.atMs };
        held = undefined;
        continue;
      }
      if (e.seq === 60 && !e.replay) {
        yield { ...e, sha256: [SHA_SENT] };
        continue;
      }
    }
    if (e.type === 'unread' && e.device === 'cu2-d1' && e.atMs >= 1_500 && e.atMs <= 1_700) {
      yield { ...e, count: e.count + 1 };
      continue;
    }
    if (e.type === 'page' && e.seqs.length > 2) {
      yield { ...e, seqs: [e.seqs[0]!, ...e.seqs.slice(2)], keys: [e.keys[0]!, ...e.keys.slice(2)] };
      continue;
    }
    yield e;
  }
}
