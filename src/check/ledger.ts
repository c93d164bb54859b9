/**
 * The message ledger: one fold over sends, acks, nacks and deliveries that every message check
 * reads, so each event is indexed once whatever the number of checks. `step(e)` returns a
 * {@link LedgerNote}: what the ledger learned about the event (first arrival at a device,
 * redelivery, new server id, the records it retired). A checker is a fold over `(event, note)`.
 *
 *   send ─┐                    ┌─> in flight ──(stored and delivered to every expected device)──┐
 *   ack  ─┼─> record per key ──┤                                                               v
 *   nack ─┤                    └─> (final nack) ─────────────────────────────────────> settled (compact)
 *   deliver                                                                                    │
 *                                                     (settled longer than retainSettledMs) ──> retired
 *
 * Memory grows with messages in flight, not with run length: a settled record keeps only its
 * server ids and seqs (so a late copy under a new id is still caught as a duplicate) and a
 * short trail of its sends, acks and nacks (so that duplicate's witness still shows them), and
 * is retired `retainSettledMs` of history time later, leaving a per-sender watermark. Arrivals
 * for retired keys are classified `late` and counted, never guessed at. The note of the event
 * that settles a record carries the record's full trail as it was at that event, so a witness
 * built from that note shows every event, although the record itself keeps the compact one.
 */
import type {
  AckEvent,
  DeliverEvent,
  DriverDeclaration,
  HistoryEvent,
  NackEvent,
  SendEvent,
} from '../history/events.ts';
import { counterOf, type Position, type SendOutcome } from '../domain/index.ts';
import { ConnectionTrail } from './connection-trail.ts';
import { FaultTimeline } from './fault-timeline.ts';
import { Topology } from './topology.ts';

/** A send's outcome (see {@link SendOutcome}): `unknown` until acknowledged or finally refused. */
export type Outcome = SendOutcome;

/** Everything the ledger knows about one message key. */
export interface MessageRecord {
  readonly key: string;
  readonly sender: string;
  readonly senderAccount: string;
  readonly counter: number;
  readonly conv: string;
  readonly kind: SendEvent['kind'];
  readonly intendedMs: number;
  readonly firstSendAtMs: number;
  lastSendAtMs: number;
  attempts: number;
  outcome: Outcome;
  /** Time of the first ack, if any. */
  ackAtMs?: number;
  /**
   * The first server id seen for this key (ack or delivery), as the ledger's global index knows
   * ids (see {@link Ledger.step}), and its position: the canonical copy the ordering check
   * judges. Nearly every message has just this one, so it is kept inline.
   */
  firstId?: string;
  firstPos?: Position;
  /**
   * Server ids after the first (a duplicate stored the message again) with their positions, in
   * order of discovery; absent while there is only one. Read all of them with {@link idCount}
   * and {@link serverIds}.
   */
  moreIds?: Map<string, Position | undefined>;
  /** A delivery proved the message stored (even without an ack or an id). */
  delivered: boolean;
  /** Expected devices that have not received any copy yet. A shared empty set once settled. */
  missing: Set<string>;
  /** Number of expected recipients at send time. */
  readonly expectedCount: number;
  /**
   * Server ids each device received (one id, or several after a duplicate); only kept while in
   * flight, then only for unexpected devices (a shared empty map, never written, when there are
   * none). Keyed by device so no per-event key is built.
   */
  seen: Map<string, string | string[]>;
  /** sha256 list the sender recorded, when the SendEvent carries one (see integrity check). */
  sentSha256?: readonly string[];
  /**
   * Sends, acks, nacks and the first deliveries, for witnesses. Once settled, only sends, acks,
   * nacks and the delivery that revealed each server id no ack showed, at most {@link SETTLED_TRAIL}.
   */
  trail: HistoryEvent[];
  /** Set when the record left the in-flight table. */
  settledAtMs?: number;
}

/** How a delivery relates to what the device and the ledger already had. */
export type DeliveryClass =
  /** This device had not seen this server id of the key. */
  | 'first'
  /** It had: a harmless replay of the same stored message. */
  | 'redelivery'
  /** The key was retired (settled long ago): nothing can be said. */
  | 'late'
  /** No send for this key is known. */
  | 'orphan';

/**
 * What the ledger learned from one event. Every note says which records it retired (checks drop
 * their own per-key state for them); a message event's note also says what it meant.
 */
export type LedgerNote = { readonly retired: readonly MessageRecord[] } & (
  | { readonly type: 'other' }
  | { readonly type: 'send'; readonly msg: MessageRecord; readonly first: boolean }
  | {
      readonly type: 'ack';
      readonly msg: MessageRecord | undefined;
      /** The server id was not known for this key before this event. */
      readonly newId: boolean;
      /** The event shows the key's canonical stored copy (its first server id). */
      readonly canonical: boolean;
      readonly firstAck: boolean;
      /** The record's trail as of this event (full, even when the event settled it). */
      readonly trail: readonly HistoryEvent[];
    }
  | { readonly type: 'nack'; readonly msg: MessageRecord | undefined }
  | {
      readonly type: 'deliver';
      readonly msg: MessageRecord | undefined;
      readonly cls: DeliveryClass;
      /** The server id was not known for this key before this event. */
      readonly newId: boolean;
      /** The event shows the key's canonical stored copy (its first server id). */
      readonly canonical: boolean;
      /** The device had received this key before under another id of its own copy (per-copy ids). */
      readonly againAtDevice: boolean;
      /** The device had not received any copy of the key before (first-arrival latency). */
      readonly firstForDevice: boolean;
      /** The device was an expected recipient at send time. */
      readonly expected: boolean;
      /** The record's trail as of this event (full, even when the event settled it). */
      readonly trail: readonly HistoryEvent[];
    }
);

/** Options of {@link Ledger}. */
export interface LedgerOptions {
  /**
   * How long (history ms) a settled message keeps its ids for late-duplicate detection.
   * Default 120 000 (2 min): longer than any reconnect-and-replay the scenarios produce.
   */
  retainSettledMs?: number;
}

/** Trail events kept per message; sends, acks and nacks always, deliveries up to this many. */
const TRAIL_DELIVERIES = 12;
/** Trail events (sends, acks, nacks) a settled record keeps. */
export const SETTLED_TRAIL = 6;
/**
 * With per-copy server ids, a settled record also keeps each device's first copy, up to this many
 * devices: a second stored copy shows up at a device later (a resend stored again), and its
 * duplicate witness needs the device's first copy beside it. Global ids need no such thing: the
 * ack or the first delivery of each id already shows it.
 */
export const SETTLED_PER_COPY_DEVICES = 64;

const NOTHING_RETIRED: readonly MessageRecord[] = [];
const NO_TRAIL: readonly HistoryEvent[] = [];
/**
 * What a settled record holds in `missing`, and in `seen` when no unexpected device saw a copy:
 * one shared empty set and map, never written to (a settled record copies `seen` before it adds
 * to it). Settled records are held `retainSettledMs` (2 minutes by default), so a set and a map
 * each per record were most of what the judge kept per message (see docs/performance.md,
 * "Session 7").
 */
const NONE_MISSING: Set<string> = new Set();
const NONE_SEEN: Map<string, string | string[]> = new Map();
/** The note of an event that taught the ledger nothing about messages and retired nothing. */
const OTHER: LedgerNote = { type: 'other', retired: NOTHING_RETIRED };

/** What the checks assume of a history without a driver declaration: the reference driver's. */
export const REFERENCE_DECLARATION: DriverDeclaration = {
  name: 'reference',
  ordering: 'number',
  serverIds: 'global',
  unreadCounts: true,
  historyPages: true,
  clientIds: true,
  resumption: false,
};

/** The position an ack or delivery gives, if any. */
export function positionOf(e: { seq?: number; pos?: string }): Position | undefined {
  return e.seq ?? e.pos;
}

/** The shared index of messages, population, faults and connection events. */
export class Ledger {
  /** What the run's driver declared (from `run-start`). */
  declaration: DriverDeclaration = REFERENCE_DECLARATION;
  readonly topology = new Topology();
  readonly faults = new FaultTimeline();
  readonly connections = new ConnectionTrail();
  readonly retainSettledMs: number;
  /** Time of the latest event. */
  nowMs = 0;
  /** True once a `run-end` event was seen. */
  ended = false;
  endReason: string | undefined;
  /** Counts of the whole run. */
  readonly totals = { sends: 0, messages: 0, acked: 0, failed: 0, deliveries: 0, late: 0, orphans: 0, retired: 0 };

  /** Every held record (in flight or settled) by key: one lookup per event. */
  private readonly byKey = new Map<string, MessageRecord>();
  /** Records in flight, in order of first send (the loss check's witness order). */
  private readonly inFlight = new Set<MessageRecord>();
  /** Settled records in settle order (times are monotone), retired from the head. */
  private readonly settleQueue: MessageRecord[] = [];
  private settleHead = 0;
  /** Highest retired counter per sender device. */
  private readonly retiredHigh = new Map<string, number>();

  constructor(options: LedgerOptions = {}) {
    this.retainSettledMs = options.retainSettledMs ?? 120_000;
  }

  /** The record of `key` while in flight or settled; undefined once retired. */
  get(key: string): MessageRecord | undefined {
    return this.byKey.get(key);
  }

  /** Messages not yet settled (outcome unknown, or stored but missing somewhere). */
  pending(): IterableIterator<MessageRecord> {
    return this.inFlight.values();
  }

  /** Fold one event; returns what it meant. */
  step(e: HistoryEvent): LedgerNote {
    let retired = NOTHING_RETIRED;
    if (e.atMs > this.nowMs) {
      this.nowMs = e.atMs;
      retired = this.retireOld();
    }
    switch (e.type) {
      case 'run-start':
        this.declaration = e.driver ?? REFERENCE_DECLARATION;
        break;
      case 'account':
      case 'conv':
        this.topology.step(e);
        break;
      case 'fault':
        this.faults.step(e);
        break;
      case 'connect':
      case 'connect-failed':
      case 'connected':
      case 'disconnect':
        this.connections.step(e);
        break;
      case 'send':
        return this.onSend(e, retired);
      case 'ack':
        return this.onAck(e, retired);
      case 'nack':
        return this.onNack(e, retired);
      case 'deliver':
        return this.onDeliver(e, retired);
      case 'run-end':
        this.ended = true;
        this.endReason = e.reason;
        break;
      default:
        break;
    }
    return retired === NOTHING_RETIRED ? OTHER : { type: 'other', retired };
  }

  private onSend(e: SendEvent, retired: readonly MessageRecord[]): LedgerNote {
    this.totals.sends++;
    const known = this.get(e.key);
    if (known !== undefined) {
      known.attempts++;
      known.lastSendAtMs = e.atMs;
      this.keep(known, e);
      return { type: 'send', msg: known, first: false, retired };
    }
    this.totals.messages++;
    const expected = this.topology.expectedRecipients(e.conv, e.device);
    const sha = e.sha256;
    const msg: MessageRecord = {
      key: e.key,
      sender: e.device,
      senderAccount: e.account,
      counter: counterOf(e.key),
      conv: e.conv,
      kind: e.kind,
      intendedMs: e.intendedMs,
      firstSendAtMs: e.atMs,
      lastSendAtMs: e.atMs,
      attempts: 1,
      outcome: 'unknown',
      // Every optional field in the literal, so every record has one shape from the start.
      ackAtMs: undefined,
      firstId: undefined,
      firstPos: undefined,
      moreIds: undefined,
      delivered: false,
      missing: new Set(expected),
      expectedCount: expected.length,
      seen: new Map(),
      sentSha256: Array.isArray(sha) && sha.every((s) => typeof s === 'string') ? (sha as string[]) : undefined,
      trail: [e],
      settledAtMs: undefined,
    };
    this.byKey.set(e.key, msg);
    this.inFlight.add(msg);
    return { type: 'send', msg, first: true, retired };
  }

  private onAck(e: AckEvent, retired: readonly MessageRecord[]): LedgerNote {
    const msg = this.get(e.key);
    if (msg === undefined) return { type: 'ack', msg: undefined, newId: false, canonical: false, firstAck: false, trail: NO_TRAIL, retired };
    const firstAck = msg.ackAtMs === undefined;
    if (firstAck) {
      msg.ackAtMs = e.atMs;
      this.totals.acked++;
    }
    msg.outcome = 'ok';
    const id = this.globalId(e);
    const newId = addId(msg, id, positionOf(e));
    this.keep(msg, e);
    const trail = msg.trail;
    this.maybeSettle(msg);
    return { type: 'ack', msg, newId, canonical: id !== undefined && id === msg.firstId, firstAck, trail, retired };
  }

  private onNack(e: NackEvent, retired: readonly MessageRecord[]): LedgerNote {
    const msg = this.get(e.key);
    if (msg !== undefined) {
      this.keep(msg, e);
      if (e.final && msg.outcome === 'unknown') {
        msg.outcome = 'fail';
        this.totals.failed++;
        this.maybeSettle(msg);
      }
    }
    return { type: 'nack', msg, retired };
  }

  private onDeliver(e: DeliverEvent, retired: readonly MessageRecord[]): LedgerNote {
    this.totals.deliveries++;
    const msg = this.get(e.key);
    if (msg === undefined) {
      const high = this.retiredHigh.get(e.from);
      const late = high !== undefined && counterOf(e.key) <= high;
      if (late) this.totals.late++;
      else this.totals.orphans++;
      return { type: 'deliver', msg: undefined, cls: late ? 'late' : 'orphan', newId: false, canonical: false, againAtDevice: false, firstForDevice: false, expected: false, trail: NO_TRAIL, retired };
    }
    msg.delivered = true;
    const gid = this.globalId(e);
    const newId = addId(msg, gid, positionOf(e));
    // What a device has seen is kept by its own copy's id (one anonymous id when there are none).
    const copyId = e.id ?? '';
    const device = e.device;
    let againAtDevice = false;
    let cls: 'first' | 'redelivery';
    let firstForDevice: boolean;
    let expected: boolean;
    if (msg.settledAtMs === undefined) {
      const wasMissing = msg.missing.delete(device);
      expected = wasMissing || this.wasExpected(msg, device);
      const had = msg.seen.get(device);
      cls = sawId(had, copyId) ? 'redelivery' : 'first';
      firstForDevice = wasMissing || (!expected && had === undefined);
      againAtDevice = cls === 'first' && had !== undefined;
      if (cls === 'first') msg.seen.set(device, withId(had, copyId));
      if (wasMissing || (cls === 'first' && msg.trail.length < TRAIL_DELIVERIES + msg.attempts + 2)) {
        msg.trail.push(e);
      }
    } else {
      // Settled: every expected device has a copy; only unexpected devices are still tracked,
      // except with per-copy ids, where a device's own ids are the only way to see a second
      // stored copy (a resend stored again arrives after the first copies settled the record).
      if (newId) this.keep(msg, e);
      expected = this.wasExpected(msg, device);
      if (expected && this.declaration.serverIds !== 'per-copy') {
        cls = newId ? 'first' : 'redelivery';
        firstForDevice = false;
      } else {
        const had = msg.seen.get(device);
        cls = sawId(had, copyId) ? 'redelivery' : 'first';
        firstForDevice = !expected && had === undefined;
        againAtDevice = cls === 'first' && had !== undefined;
        if (cls === 'first') {
          if (msg.seen === NONE_SEEN) msg.seen = new Map();
          msg.seen.set(device, withId(had, copyId));
        }
        if (againAtDevice) this.keep(msg, e);
      }
    }
    const trail = msg.trail;
    this.maybeSettle(msg);
    const canonical = gid !== undefined && gid === msg.firstId;
    return { type: 'deliver', msg, cls, newId, canonical, againAtDevice, firstForDevice, expected, trail, retired };
  }

  /**
   * The id the global index learns from an ack or delivery: the server id with `global` ids (an
   * ack without one teaches nothing); one anonymous id per key when the back end shows none or
   * gives each copy its own (then every copy proves the same stored message, and duplicates are
   * judged per device from `againAtDevice`).
   */
  private globalId(e: AckEvent | DeliverEvent): string | undefined {
    return this.declaration.serverIds === 'global' ? e.id : '';
  }

  /** Add a send, ack, nack or id-revealing delivery to the trail (a settled record keeps a few). */
  private keep(msg: MessageRecord, e: SendEvent | AckEvent | NackEvent | DeliverEvent): void {
    const cap = this.declaration.serverIds === 'per-copy' ? SETTLED_TRAIL + SETTLED_PER_COPY_DEVICES : SETTLED_TRAIL;
    if (msg.settledAtMs === undefined || msg.trail.length < cap) msg.trail.push(e);
  }

  /** Whether `device` was an expected recipient (membership at send time approximated by now). */
  private wasExpected(msg: MessageRecord, device: string): boolean {
    if (device === msg.sender) return false;
    const account = this.topology.accountOf(device);
    return account !== undefined && this.topology.isMember(msg.conv, account);
  }

  private maybeSettle(msg: MessageRecord): void {
    if (msg.settledAtMs !== undefined) return;
    const stored = msg.outcome === 'ok' || msg.delivered;
    const done = (stored && msg.missing.size === 0) || (msg.outcome === 'fail' && msg.firstId === undefined);
    if (!done) return;
    msg.settledAtMs = this.nowMs;
    this.inFlight.delete(msg);
    this.settleQueue.push(msg);
    // Drop the bulky state: keep ids, the few unexpected devices that saw a copy, and a compact
    // trail (a new array: the note of this event still holds the full one). `slice` makes it
    // exactly as long as its events: an array built by `push` has room for 16 more, which the
    // record would keep for `retainSettledMs`.
    msg.trail = compactTrail(msg.trail, this.declaration.serverIds === 'per-copy').slice();
    msg.missing = NONE_MISSING;
    if (this.declaration.serverIds !== 'per-copy') {
      for (const device of msg.seen.keys()) if (this.wasExpected(msg, device)) msg.seen.delete(device);
    }
    if (msg.seen.size === 0) msg.seen = NONE_SEEN;
  }

  /** Retire records settled longer than `retainSettledMs` ago; returns them. */
  private retireOld(): readonly MessageRecord[] {
    const horizon = this.nowMs - this.retainSettledMs;
    const q = this.settleQueue;
    let retired: MessageRecord[] | undefined;
    while (this.settleHead < q.length) {
      const msg = q[this.settleHead]!;
      if ((msg.settledAtMs ?? 0) > horizon) break;
      this.settleHead++;
      // A failed send may have been settled and then been proven stored by a late delivery;
      // it is still settled, so it retires the same way.
      if (this.byKey.get(msg.key) === msg) this.byKey.delete(msg.key);
      const high = this.retiredHigh.get(msg.sender);
      if (high === undefined || msg.counter > high) this.retiredHigh.set(msg.sender, msg.counter);
      (retired ??= []).push(msg);
      this.totals.retired++;
    }
    if (this.settleHead > 1024 && this.settleHead * 2 > q.length) {
      q.splice(0, this.settleHead);
      this.settleHead = 0;
    }
    return retired ?? NOTHING_RETIRED;
  }

  /** Entries held in the ledger's tables (for the bounded-memory test), including the population. */
  retained(): number {
    let n = this.byKey.size + (this.settleQueue.length - this.settleHead) + this.retiredHigh.size;
    for (const m of this.byKey.values()) n += idCount(m) + m.missing.size + seenPairs(m) + m.trail.length;
    return n + this.topology.retained() + this.faults.retained() + this.connections.retained();
  }
}

/**
 * A settled record's trail: its sends, acks and nacks, and for each server id no ack revealed
 * the first delivery that did (the evidence of every id a duplicate witness needs), at most
 * {@link SETTLED_TRAIL} events.
 */
function compactTrail(trail: readonly HistoryEvent[], perCopy: boolean): HistoryEvent[] {
  if (perCopy) return compactPerCopyTrail(trail);
  // Ids are few (one unless the message was duplicated): an array is enough.
  const shown: string[] = [];
  for (const x of trail) if (x.type === 'ack' && x.id !== undefined && !shown.includes(x.id)) shown.push(x.id);
  const out: HistoryEvent[] = [];
  for (const x of trail) {
    if (out.length === SETTLED_TRAIL) break;
    if (x.type === 'deliver') {
      const id = x.id ?? '';
      if (shown.includes(id)) continue;
      shown.push(id);
    }
    out.push(x);
  }
  return out;
}

/**
 * A settled record's trail with per-copy ids: up to {@link SETTLED_TRAIL} sends, acks and nacks,
 * and each device's first copy (up to {@link SETTLED_PER_COPY_DEVICES} devices), in order.
 */
function compactPerCopyTrail(trail: readonly HistoryEvent[]): HistoryEvent[] {
  const devices = new Set<string>();
  const out: HistoryEvent[] = [];
  let others = 0;
  for (const x of trail) {
    if (x.type === 'deliver') {
      if (devices.has(x.device) || devices.size === SETTLED_PER_COPY_DEVICES) continue;
      devices.add(x.device);
    } else {
      if (others === SETTLED_TRAIL) continue;
      others++;
    }
    out.push(x);
  }
  return out;
}

/** Record server id `id` (with its position) for `m`; true when it was new. */
function addId(m: MessageRecord, id: string | undefined, pos: Position | undefined): boolean {
  if (id === undefined) return false;
  if (m.firstId === undefined) {
    m.firstId = id;
    m.firstPos = pos;
    return true;
  }
  if (m.firstId === id || m.moreIds?.has(id)) return false;
  (m.moreIds ??= new Map()).set(id, pos);
  return true;
}

/** Number of server ids seen for `m` (more than one: stored more than once). */
export function idCount(m: MessageRecord): number {
  return m.firstId === undefined ? 0 : 1 + (m.moreIds?.size ?? 0);
}

/** Every server id seen for `m` with its position, in order of discovery. */
export function serverIds(m: MessageRecord): [id: string, pos: Position | undefined][] {
  if (m.firstId === undefined) return [];
  const out: [string, Position | undefined][] = [[m.firstId, m.firstPos]];
  if (m.moreIds) for (const entry of m.moreIds) out.push(entry);
  return out;
}

/** Whether a device whose received ids are `had` already received `id`. */
function sawId(had: string | string[] | undefined, id: string): boolean {
  return had === id || (Array.isArray(had) && had.includes(id));
}

/** `had` plus `id` (not yet in it). */
function withId(had: string | string[] | undefined, id: string): string | string[] {
  if (had === undefined) return id;
  if (typeof had === 'string') return [had, id];
  had.push(id);
  return had;
}

/** Number of (device, id) pairs in `m.seen`. */
function seenPairs(m: MessageRecord): number {
  let n = 0;
  for (const v of m.seen.values()) n += typeof v === 'string' ? 1 : v.length;
  return n;
}
