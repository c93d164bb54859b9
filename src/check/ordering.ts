/**
 * Ordering. A message's position is its server seq (per conversation). Using the first server id
 * found for each key (other ids are the duplicates check's business), this check fails on:
 *
 *   - receiver FIFO: at a receiving device, among first arrivals (live or replay) from one sending
 *     device in one conversation, seqs must increase in arrival order;
 *   - server FIFO: for two messages of one sender in one conversation where the earlier one's
 *     last attempt was written before the later one's first attempt (so one ordered socket carried
 *     them in counter order), the earlier counter must get the lower seq. A message resent after a
 *     later one was sent may legitimately land after it, and is not judged;
 *   - disagreement: one key with different seqs at different devices (or vs its ack), or two
 *     keys at the same seq of one conversation;
 *   - arrival order: at an expected receiving device, a *live* (non-replay) first arrival whose
 *     seq is below the highest seq that device already received for the conversation, from any
 *     sender (same-sender cases are counted as receiver FIFO, not twice). A conversation's order
 *     is its seq order (docs/protocol.md §2), and a live message arrives after the device is
 *     caught up (§4.5), so an older message pushed after a newer one is what the user sees as
 *     "messages out of order": it appears below a newer one, or jumps above it.
 *
 * Every first arrival below the device's highest seq, replayed or live, is also counted in the
 * `outOfOrder` metric. A *replayed* first arrival below the highest seq is not a failure: a
 * driver that re-syncs from an older cursor recovers a missed message that way (its lateness is
 * the delay metrics' business, its absence would have been loss). Arrivals at devices that
 * were not expected recipients are the isolation check's business and are not judged here.
 * Redeliveries of an id the device already had are ignored.
 */
import type { DeliverEvent, HistoryEvent } from '../history/events.ts';
import { positionBefore, type Position } from '../domain/index.ts';
import { positionOf, serverIds, type Ledger, type LedgerNote, type MessageRecord } from './ledger.ts';
import type { CheckResult, Checker } from './types.ts';
import { buildWitness, WitnessList } from './witness.ts';

/** Recent stored messages kept per (sender, conversation) for the server-FIFO comparison. */
const SENDER_WINDOW = 32;

/** A message whose canonical seq is known, as the server-FIFO rule compares it. */
interface Placed {
  key: string;
  counter: number;
  seq: Position;
  firstSendAtMs: number;
  lastSendAtMs: number;
}

/**
 * Whether `earlier` (the lower counter) and `later` violate server FIFO: the earlier one's last
 * attempt was written before the later one's first, yet it got the higher seq.
 */
function violatesServerFifo(earlier: Placed, later: Placed): boolean {
  return earlier.lastSendAtMs < later.firstSendAtMs && positionBefore(later.seq, earlier.seq);
}

/**
 * A sender's last {@link SENDER_WINDOW} placed messages in one conversation, oldest first, and
 * upper bounds of every counter and seq ever placed here (still bounds after the oldest leave).
 */
class SenderWindow {
  readonly items: Placed[] = [];
  maxCounter = -Infinity;
  maxSeq: Position | undefined;

  add(p: Placed): void {
    this.items.push(p);
    if (this.items.length > SENDER_WINDOW) this.items.shift();
    if (p.counter > this.maxCounter) this.maxCounter = p.counter;
    if (this.maxSeq === undefined || positionBefore(this.maxSeq, p.seq)) this.maxSeq = p.seq;
  }
}
interface Arrival {
  key: string;
  seq: Position;
  event: DeliverEvent;
}
/** What one device has received of one conversation. */
interface DeviceConv {
  /** First arrival with the highest seq so far. */
  high: Arrival;
  /** sender -> last (highest) arrival from that sender. */
  bySender: Map<string, Arrival>;
}

/** `outer.get(a).get(b)`, creating the inner map; nested maps of event strings need no per-event key string. */
function inner<V>(outer: Map<string, Map<string, V>>, a: string): Map<string, V> {
  let m = outer.get(a);
  if (m === undefined) outer.set(a, (m = new Map()));
  return m;
}


export class OrderingChecker implements Checker {
  readonly name = 'ordering';
  /** device -> conv -> what it received. */
  private readonly received = new Map<string, Map<string, DeviceConv>>();
  /** sender -> conv -> recent placed messages. */
  private readonly placed = new Map<string, Map<string, SenderWindow>>();
  /** conv -> seq -> key, for messages still held by the ledger. */
  private readonly seqOwner = new Map<string, Map<Position, string>>();
  private readonly counts = { receiverFifo: 0, serverFifo: 0, disagreement: 0, seqConflict: 0, arrivalOrder: 0, outOfOrder: 0 };
  private readonly witnesses = new WitnessList();

  constructor(private readonly ledger: Ledger) {}

  step(e: HistoryEvent, note: LedgerNote): void {
    for (const m of note.retired) this.forget(m);
    if ((note.type !== 'ack' && note.type !== 'deliver') || note.msg === undefined) return;
    if (e.type !== 'ack' && e.type !== 'deliver') return;
    const msg = note.msg;
    const canonicalSeq = msg.firstPos;
    const seq = positionOf(e);
    // Only the canonical stored copy is placed; other ids are the duplicates check's business.
    if (!note.canonical || canonicalSeq === undefined || seq === undefined) return;
    if (note.newId) this.place(msg, canonicalSeq, e, note.trail);
    else if (seq !== canonicalSeq) {
      this.counts.disagreement++;
      if (!this.witnesses.full) this.witnesses.add(
        buildWitness(this.ledger, {
          summary: `${msg.key} (id ${e.id ?? 'none'}) has seq ${seq} on ${e.device} but seq ${canonicalSeq} elsewhere`,
          key: msg.key,
          device: e.device,
          atMs: e.atMs,
          msg,
          msgTrail: note.trail,
          events: [e],
        }),
      );
    }
    if (e.type === 'deliver' && note.type === 'deliver' && note.cls === 'first') this.arrive(msg, e, seq, note.expected, note.trail);
  }

  /** The trail of `key` (`msg`'s own as the note gave it), or nothing once the ledger retired it. */
  private trailOfKey(key: string, msg: MessageRecord, msgTrail: readonly HistoryEvent[]): readonly HistoryEvent[] {
    if (key === msg.key) return msgTrail;
    return this.ledger.get(key)?.trail ?? [];
  }

  /** First time a key's canonical seq is known: conflicts and server FIFO. */
  private place(msg: MessageRecord, seq: Position, e: HistoryEvent, msgTrail: readonly HistoryEvent[]): void {
    const ledger = this.ledger;
    let owners = this.seqOwner.get(msg.conv);
    if (owners === undefined) {
      owners = new Map();
      this.seqOwner.set(msg.conv, owners);
    }
    const other = owners.get(seq);
    if (other !== undefined && other !== msg.key) {
      this.counts.seqConflict++;
      if (!this.witnesses.full) this.witnesses.add(
        buildWitness(ledger, {
          summary: `${msg.key} and ${other} both hold seq ${seq} in ${msg.conv}`,
          key: msg.key,
          atMs: e.atMs,
          msg,
          msgTrail,
          events: [...this.trailOfKey(other, msg, msgTrail), e],
        }),
      );
    } else owners.set(seq, msg.key);

    const windows = inner(this.placed, msg.sender);
    let window = windows.get(msg.conv);
    if (window === undefined) windows.set(msg.conv, (window = new SenderWindow()));
    const me: Placed = { key: msg.key, counter: msg.counter, seq, firstSendAtMs: msg.firstSendAtMs, lastSendAtMs: msg.lastSendAtMs };
    // The common case, a sender's next message placed after all its earlier ones: above every
    // counter and seq in the window, it can be neither the earlier message of a violating pair
    // (no higher counter) nor the later one (no higher seq). Only otherwise walk the window.
    const inOrder = me.counter > window.maxCounter && (window.maxSeq === undefined || positionBefore(window.maxSeq, me.seq));
    if (!inOrder) this.judgeServerFifo(window, me, msg, e, msgTrail);
    window.add(me);
  }

  /** `me` against every earlier placement of its sender in the conversation (see the module comment). */
  private judgeServerFifo(window: SenderWindow, me: Placed, msg: MessageRecord, e: HistoryEvent, msgTrail: readonly HistoryEvent[]): void {
    for (const p of window.items) {
      if (p.counter === me.counter) continue;
      const [a, b] = p.counter < me.counter ? [p, me] : [me, p];
      if (!violatesServerFifo(a, b)) continue;
      this.counts.serverFifo++;
      if (!this.witnesses.full) this.witnesses.add(
        buildWitness(this.ledger, {
          summary:
            `${a.key} was written before ${b.key} was first sent, yet the server placed it after: ` +
            `seq ${a.seq} > ${b.seq} in ${msg.conv}`,
          key: msg.key,
          device: msg.sender,
          atMs: e.atMs,
          events: [...this.trailOfKey(a.key, msg, msgTrail), ...this.trailOfKey(b.key, msg, msgTrail), e],
          devices: [msg.sender],
          fromMs: Math.min(a.firstSendAtMs, b.firstSendAtMs),
        }),
      );
    }
  }

  /** A first arrival at a device: receiver FIFO, live arrival order, and the out-of-order metric. */
  private arrive(msg: MessageRecord, e: DeliverEvent, seq: Position, expected: boolean, msgTrail: readonly HistoryEvent[]): void {
    const ledger = this.ledger;
    const convs = inner(this.received, e.device);
    const dc = convs.get(e.conv);
    const high = dc?.high;
    const below = high !== undefined && positionBefore(seq, high.seq);
    if (below) this.counts.outOfOrder++;
    const arrival: Arrival = { key: msg.key, seq, event: e };
    let bySender: Map<string, Arrival>;
    if (dc === undefined) {
      bySender = new Map();
      convs.set(e.conv, { high: arrival, bySender });
    } else {
      bySender = dc.bySender;
      if (!below) dc.high = arrival;
    }

    const prev = bySender.get(msg.sender);
    if (prev !== undefined && positionBefore(seq, prev.seq)) {
      this.counts.receiverFifo++;
      if (!this.witnesses.full) this.witnesses.add(
        buildWitness(ledger, {
          summary: `${e.device} showed ${msg.key} (seq ${seq}) after ${prev.key} (seq ${prev.seq}) from the same sender ${msg.sender}`,
          key: msg.key,
          device: e.device,
          atMs: e.atMs,
          msg,
          msgTrail,
          events: [prev.event, e],
          devices: [e.device],
        }),
      );
      return;
    }
    bySender.set(msg.sender, arrival);
    if (below && !e.replay && expected) {
      const top = high;
      this.counts.arrivalOrder++;
      if (!this.witnesses.full) this.witnesses.add(
        buildWitness(ledger, {
          summary:
            `${e.device} received ${msg.key} (seq ${seq}) live after ${top.key} (seq ${top.seq}) of ${e.conv}: ` +
            'an older message arrived after a newer one',
          key: msg.key,
          device: e.device,
          atMs: e.atMs,
          msg,
          msgTrail,
          events: [top.event, e],
          devices: [e.device],
        }),
      );
    }
  }

  private forget(m: MessageRecord): void {
    const owners = this.seqOwner.get(m.conv);
    if (owners === undefined) return;
    for (const [, seq] of serverIds(m)) if (seq !== undefined && owners.get(seq) === m.key) owners.delete(seq);
  }

  result(): CheckResult {
    const { receiverFifo, serverFifo, disagreement, seqConflict, arrivalOrder } = this.counts;
    const violations = receiverFifo + serverFifo + disagreement + seqConflict + arrivalOrder;
    const metrics = { ...this.counts };
    const driver = this.ledger.declaration;
    if (driver.ordering === 'none') {
      return { name: this.name, status: 'not-checked', count: 0, witnesses: [], metrics, unsupported: true, note: `driver ${driver.name} gives no ordering positions (capabilities.ordering: 'none')` };
    }
    if (this.ledger.totals.messages === 0) {
      return { name: this.name, status: 'not-checked', count: 0, witnesses: [], metrics, note: 'no sends in the history' };
    }
    return { name: this.name, status: violations > 0 ? 'fail' : 'pass', count: violations, witnesses: this.witnesses.items, metrics };
  }

  /** Entries held (for the bounded-memory test). */
  retained(): number {
    let n = 0;
    for (const convs of this.received.values()) for (const dc of convs.values()) n += 1 + dc.bySender.size;
    for (const rings of this.placed.values()) for (const w of rings.values()) n += 1 + w.items.length;
    for (const o of this.seqOwner.values()) n += o.size + 1;
    return n;
  }
}
