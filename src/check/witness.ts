/**
 * Witness building: an anomaly plus the events that prove it — the message's sends, acks and
 * deliveries, the connection events of the devices involved, and the faults active meanwhile.
 */
import type { HistoryEvent } from '../history/events.ts';
import type { Ledger, MessageRecord } from './ledger.ts';
import { MAX_WITNESSES, type Witness } from './types.ts';

/** Parts of a witness. */
export interface WitnessParts {
  summary: string;
  key?: string;
  device?: string;
  atMs?: number;
  /** Message whose own trail (if still held) goes into the witness. */
  msg?: MessageRecord;
  /** The message's trail as a ledger note gave it (full at the event that settled it); default `msg.trail`. */
  msgTrail?: readonly HistoryEvent[];
  /** Further events proving the anomaly (e.g. the offending delivery). */
  events?: readonly HistoryEvent[];
  /** Devices whose recent connection events belong in the trail. */
  devices?: readonly string[];
  /** Time window whose faults belong in the trail; default from the message's intended time to `atMs`. */
  fromMs?: number;
  toMs?: number;
}

/**
 * Assemble one witness; the trail is in time order without repeats, and the anomaly's own events
 * (`parts.events`) keep their order among themselves when they share a timestamp.
 */
export function buildWitness(ledger: Ledger, parts: WitnessParts): Witness {
  const seen = new Set<HistoryEvent>();
  const trail: HistoryEvent[] = [];
  const add = (e: HistoryEvent): void => {
    if (!seen.has(e)) {
      seen.add(e);
      trail.push(e);
    }
  };
  // The anomaly's own events first: the trail is sorted by time, and events stamped in the same
  // microsecond (two frames of one read) keep the order they were added in. The checker gives
  // its events in history order, and that order is the anomaly (a swap must read as a swap).
  for (const e of parts.events ?? []) add(e);
  for (const e of parts.msgTrail ?? parts.msg?.trail ?? []) add(e);
  for (const d of parts.devices ?? []) for (const e of ledger.connections.of(d)) add(e);
  const fromMs = parts.fromMs ?? parts.msg?.intendedMs ?? parts.atMs ?? ledger.nowMs;
  const toMs = parts.toMs ?? parts.atMs ?? ledger.nowMs;
  for (const e of ledger.faults.eventsOverlapping(fromMs, toMs)) add(e);
  trail.sort((a, b) => a.atMs - b.atMs);
  const w: Witness = { summary: parts.summary, trail };
  if (parts.key !== undefined) w.key = parts.key;
  if (parts.device !== undefined) w.device = parts.device;
  if (parts.atMs !== undefined) w.atMs = parts.atMs;
  return w;
}

/**
 * Up to {@link MAX_WITNESSES} witnesses; later ones are counted, not kept. Build a witness only
 * when there is room (building copies trails): `if (!list.full) list.add(buildWitness(...))`.
 * (Not a callback: a closure in a checker's per-event path makes V8 allocate the captured
 * variables on every call, witness or not.)
 */
export class WitnessList {
  readonly items: Witness[] = [];
  /** Keep `w` if there is room. */
  add(w: Witness): void {
    if (this.items.length < MAX_WITNESSES) this.items.push(w);
  }
  get full(): boolean {
    return this.items.length >= MAX_WITNESSES;
  }
}
