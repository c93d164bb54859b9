/**
 * Sync: every device of an account shows the right unread count for each conversation, soon
 * after it changes, and at the end of the run; plus how long convergence takes.
 *
 * Right value, per (account, conversation): the number of stored messages (server ids, so a
 * duplicate counts twice, as the server would) with seq above the account's read seq, not sent
 * by that account. It changes when a message is first seen stored (ack or delivery) and when a
 * device of the account marks the conversation read.
 *
 * A `read` is fire-and-forget, so its outcome is three-valued, as sends are: *pending* from the
 * `read` event until it is known applied, then *applied*; if the reader loses its connection
 * first, *unknown* (the server may or may not have got it). A report carrying the server's
 * `readSeq` (docs/protocol.md §5 `read`, §6 `unread`, `welcome`) applies every read up to that
 * seq, pending or unknown, whichever device sent it; a report without one applies the reading
 * device's own pending read (its next report is taken as the server's answer). While reads are
 * pending or unknown, any count between the value with all of them applied and the value with
 * none applied is accepted. Only applied reads move the account's read seq for judging.
 *
 * What a user sees when sync is broken is a device with a wrong badge — after reading on the
 * phone, the desktop still says 3 — that stays wrong until some later push happens to correct
 * it. Two rules fail the check:
 *
 *   - stale: a connected device shows a count that the conversation has not had for longer
 *     than `maxStaleMs` (default {@link DEFAULT_MAX_STALE_MS}). Lagging is allowed — every push
 *     travels, and in a busy conversation the right value may move again before the last push
 *     lands — so a shown value's staleness runs from the moment the right value last stopped
 *     being that value (or from its report, if the right value never was that value). A
 *     stretch ends when the device reports another count (a new stretch starts if that one is
 *     wrong too), when the right value moves back to what it shows, or when the device
 *     disconnects (an offline device cannot be told). Time while a fault of the device's
 *     network is active does not count: a stretch is measured from the later of its start and
 *     the end of the last fault on that network overlapping it, and a stretch that ends during
 *     such a fault is not judged. Each stretch counts once.
 *   - wrong at end: at `run-end`, every device of an observed account (one with at least one
 *     unread report for the conversation) must show an accepted count; a device that never
 *     reported fails too unless the accepted value is 0. A stretch still open at `run-end` is
 *     judged by this rule only, so it is not counted twice.
 *
 * After a device reconnects, the count it shows is unknown until its next report. Drivers that
 * record the counts of the server's greeting (`unread` with `source: 'welcome'`, on every
 * connect) make that report come at once, so a reconnected device is judged from its welcome
 * count on; with a driver that does not, the device is not judged until its next push, and one
 * still unknown at `run-end` is counted as `unknownAtEnd`, not failed. Accounts never observed
 * for a conversation are counted (`unobserved`), not judged. Without `run-end` the check says
 * `not-checked`.
 *
 * Convergence time (`sync` histogram): from the latest change of the right value (all reads
 * taken as applied) to the moment every device of the account last reported it. A change
 * superseded before convergence is not timed (counted as `superseded`).
 *
 * Memory: per (account, conversation) the seqs still unread — it grows only while an account
 * leaves messages unread — and per (device, conversation) the last report.
 */
import type { DisconnectEvent, HistoryEvent, ReadEvent, UnreadEvent } from '../history/events.ts';
import { HistogramSet } from '../stats/hdr.ts';
import type { Ledger, LedgerNote } from './ledger.ts';
import type { CheckResult, Checker } from './types.ts';
import { buildWitness, WitnessList } from './witness.ts';

/** Default longest time a connected device may show a wrong unread count outside faults: 5 s. */
export const DEFAULT_MAX_STALE_MS = 5_000;

/** Options of {@link SyncChecker}. */
export interface SyncOptions {
  /** Longest stretch (ms, outside faults of the device's network) a device may show a wrong count. Default 5 000. */
  maxStaleMs?: number;
}

interface AccountConv {
  account: string;
  conv: string;
  /** What each device shows for `conv` (shared by every account of the conversation). */
  devices: Map<string, DeviceConv>;
  /** Read seq of the applied reads. */
  floor: number;
  /** Stored seqs above `floor`, not sent by the account. */
  unread: Set<number>;
  /** Pending reads: reading device -> highest seq it asked for. */
  pending: Map<string, { seq: number; event: ReadEvent }>;
  /** Highest seq of reads whose outcome is unknown (0: none above `floor`). */
  unknownReadSeq: number;
  lastRead?: ReadEvent;
  /** Recent accepted ranges, oldest first, each with the event that started it. */
  log: Accepted[];
  /** Time of the latest change not yet converged on. */
  pendingSinceMs?: number;
}

/** From `atMs` on, counts in [lo, hi] were accepted, because of `cause` (none: the initial 0). */
interface Accepted {
  atMs: number;
  lo: number;
  hi: number;
  cause?: HistoryEvent;
}

/** Accepted ranges remembered per (account, conversation) for staleness. */
const ACCEPTED_LOG = 64;

interface DeviceConv {
  device: string;
  state: AccountConv;
  /** Last count reported; undefined when never reported or unknown since a reconnect. */
  shown?: number;
  last?: UnreadEvent;
  /** Time of the report before `last`: a new wrong value is never dated back past it. */
  prevReportMs?: number;
  /** Start of the current stretch showing a count outside the accepted values. */
  wrongSinceMs?: number;
  /** The change that started the stretch (for the witness). */
  wrongCause?: HistoryEvent;
  /** The accepted range when the stretch was found (for the witness). */
  wrongLo?: number;
  wrongHi?: number;
}

export class SyncChecker implements Checker {
  readonly name = 'sync';
  readonly histograms = new HistogramSet();
  readonly maxStaleMs: number;
  /** conv -> account -> state. */
  private readonly states = new Map<string, Map<string, AccountConv>>();
  /** Every state, in creation order (the order of end-of-run witnesses). */
  private readonly allStates: AccountConv[] = [];
  /** conv -> device -> what the device shows. */
  private readonly shown = new Map<string, Map<string, DeviceConv>>();
  /** device -> its entries in `shown`. */
  private readonly byDevice = new Map<string, DeviceConv[]>();
  /** Devices between a disconnect and their next connection attempt. */
  private readonly offline = new Set<string>();
  /** Devices that reconnected at least once. */
  private readonly reconnected = new Set<string>();
  /** device -> account-conversations with a pending read from it. */
  private readonly pendingBy = new Map<string, Set<AccountConv>>();
  private unreadEvents = 0;
  private superseded = 0;
  private unknownReads = 0;
  private staleStretches = 0;
  private excusedByFault = 0;
  private longestStaleMs = 0;
  private readonly witnesses = new WitnessList();

  constructor(
    private readonly ledger: Ledger,
    options: SyncOptions = {},
  ) {
    this.maxStaleMs = options.maxStaleMs ?? DEFAULT_MAX_STALE_MS;
  }

  private state(account: string, conv: string): AccountConv {
    let byAccount = this.states.get(conv);
    if (byAccount === undefined) this.states.set(conv, (byAccount = new Map()));
    return byAccount.get(account) ?? this.newState(byAccount, account, conv);
  }

  private newState(byAccount: Map<string, AccountConv>, account: string, conv: string): AccountConv {
    let devices = this.shown.get(conv);
    if (devices === undefined) this.shown.set(conv, (devices = new Map()));
    const log: Accepted[] = [{ atMs: this.ledger.nowMs, lo: 0, hi: 0 }];
    const s: AccountConv = { account, conv, devices, floor: 0, unread: new Set(), pending: new Map(), unknownReadSeq: 0, log };
    byAccount.set(account, s);
    this.allStates.push(s);
    return s;
  }

  private deviceConv(device: string, s: AccountConv): DeviceConv {
    let d = s.devices.get(device);
    if (d === undefined) {
      d = { device, state: s };
      s.devices.set(device, d);
      let list = this.byDevice.get(device);
      if (list === undefined) this.byDevice.set(device, (list = []));
      list.push(d);
    }
    return d;
  }

  private accountOf(device: string, fallback: string): string {
    return this.ledger.topology.accountOf(device) ?? fallback;
  }

  step(e: HistoryEvent, note: LedgerNote): void {
    const ledger = this.ledger;
    switch (e.type) {
      case 'unread':
        this.onUnread(e);
        return;
      case 'read':
        this.onRead(e);
        return;
      case 'ack':
      case 'deliver': {
        // Unread counts are judged against numeric positions only (see `result`).
        const seq = e.seq;
        if ((note.type !== 'ack' && note.type !== 'deliver') || !note.newId || note.msg === undefined || seq === undefined) return;
        const members = ledger.topology.membersOf(e.conv);
        if (members === undefined) return;
        const senderAccount = note.msg.senderAccount;
        let byAccount = this.states.get(e.conv);
        if (byAccount === undefined) this.states.set(e.conv, (byAccount = new Map()));
        for (const account of members) {
          if (account === senderAccount) continue;
          const s = byAccount.get(account) ?? this.newState(byAccount, account, e.conv);
          if (seq > s.floor && !s.unread.has(seq)) {
            s.unread.add(seq);
            this.changed(s, e, true);
          }
        }
        return;
      }
      case 'disconnect':
        this.onDisconnect(e);
        return;
      case 'connect':
        if (this.offline.delete(e.device)) {
          // A reconnection: what the device shows is unknown until it reports (its welcome counts,
          // when the driver records them, come right after this event).
          this.reconnected.add(e.device);
          for (const d of this.byDevice.get(e.device) ?? []) {
            d.shown = undefined;
            d.wrongSinceMs = undefined;
          }
        }
        return;
      default:
        return;
    }
  }

  private onUnread(e: UnreadEvent): void {
    this.unreadEvents++;
    const s = this.state(this.accountOf(e.device, e.account), e.conv);
    const d = this.deviceConv(e.device, s);
    d.prevReportMs = d.last?.atMs;
    d.shown = e.count;
    d.last = e;
    if (e.readSeq !== undefined) {
      // The server says which read seq the count goes with: every read up to it is applied
      // (pending or of unknown outcome, from any device), none above it yet.
      if (e.readSeq > s.floor) {
        this.applyRead(s, e.readSeq);
        this.changed(s, e, false);
      }
    } else {
      const asked = s.pending.get(e.device);
      if (asked !== undefined) {
        // Without a read seq, the reader's next report is taken as the server's answer to its read.
        s.pending.delete(e.device);
        this.pendingBy.get(e.device)?.delete(s);
        this.applyRead(s, asked.seq);
        this.changed(s, e, false);
      }
    }
    const lo = this.latest(s);
    this.evaluate(d, e.atMs, e, true, lo, s.unread.size);
    this.tryConverge(s, e.atMs, lo);
  }

  private onRead(e: ReadEvent): void {
    const seq = e.seq;
    if (seq === undefined) return;
    const s = this.state(this.accountOf(e.device, e.account), e.conv);
    s.lastRead = e;
    if (seq <= s.floor) return;
    const before = this.latest(s);
    const prev = s.pending.get(e.device);
    if (prev === undefined || seq > prev.seq) s.pending.set(e.device, { seq, event: e });
    let set = this.pendingBy.get(e.device);
    if (set === undefined) this.pendingBy.set(e.device, (set = new Set()));
    set.add(s);
    if (this.latest(s) !== before) this.changed(s, e, true);
  }

  private onDisconnect(e: DisconnectEvent): void {
    for (const d of this.byDevice.get(e.device) ?? []) this.endStretch(d, e.atMs, e);
    this.offline.add(e.device);
    const set = this.pendingBy.get(e.device);
    if (set === undefined) return;
    // Reads the device sent without an answer: their outcome is unknown from now on.
    for (const s of set) {
      const asked = s.pending.get(e.device);
      if (asked === undefined) continue;
      s.pending.delete(e.device);
      this.unknownReads++;
      if (asked.seq > s.unknownReadSeq) s.unknownReadSeq = asked.seq;
      this.changed(s, e, false);
    }
    this.pendingBy.delete(e.device);
  }

  private applyRead(s: AccountConv, seq: number): void {
    if (seq <= s.floor) return;
    s.floor = seq;
    for (const x of s.unread) if (x <= seq) s.unread.delete(x);
    for (const [device, p] of s.pending) {
      if (p.seq <= seq) {
        s.pending.delete(device);
        this.pendingBy.get(device)?.delete(s);
      }
    }
    if (s.unknownReadSeq <= seq) s.unknownReadSeq = 0;
  }

  /** Unread count if the account had read up to `readSeq`. */
  private countAbove(s: AccountConv, readSeq: number): number {
    if (readSeq <= s.floor) return s.unread.size;
    let n = 0;
    for (const x of s.unread) if (x > readSeq) n++;
    return n;
  }

  /** Highest read seq that may be in effect (pending and unknown reads taken as applied). */
  private topRead(s: AccountConv): number {
    let top = Math.max(s.floor, s.unknownReadSeq);
    for (const p of s.pending.values()) if (p.seq > top) top = p.seq;
    return top;
  }

  /** The right value with every read applied. */
  private latest(s: AccountConv): number {
    return this.countAbove(s, this.topRead(s));
  }

  /**
   * The right value of `s` may have moved because of `cause`: log the accepted range, re-judge
   * the account's devices and try convergence. The counts a device may show are [lo, hi]: lo
   * with every open read applied (`latest(s)`), hi with none (`s.unread.size`); they are
   * computed once here and handed down.
   */
  private changed(s: AccountConv, cause: HistoryEvent, timed: boolean): void {
    const lo = this.latest(s);
    const hi = s.unread.size;
    const top = s.log.at(-1);
    if (top === undefined || top.lo !== lo || top.hi !== hi) {
      s.log.push({ atMs: cause.atMs, lo, hi, cause });
      if (s.log.length > ACCEPTED_LOG) s.log.shift();
    }
    if (timed) {
      if (s.pendingSinceMs !== undefined) this.superseded++;
      s.pendingSinceMs = cause.atMs;
    }
    for (const device of this.ledger.topology.devicesOf(s.account)) {
      const d = s.devices.get(device);
      if (d !== undefined) this.evaluate(d, cause.atMs, cause, false, lo, hi);
    }
    this.tryConverge(s, cause.atMs, lo);
  }

  /**
   * Open or close `d`'s wrong stretch after something changed at `atMs`; `reported` when the
   * change is the device's own new report; [lo, hi] the counts accepted now.
   */
  private evaluate(d: DeviceConv, atMs: number, cause: HistoryEvent, reported: boolean, lo: number, hi: number): void {
    if (d.shown === undefined || this.offline.has(d.device)) return;
    const s = d.state;
    if (d.shown >= lo && d.shown <= hi) {
      this.endStretch(d, atMs, cause);
      return;
    }
    if (d.wrongSinceMs !== undefined && !reported) return;
    // A new wrong value: the previous one's stretch ends here; the new one is stale since the
    // right value last stopped being it.
    this.endStretch(d, atMs, cause);
    d.wrongSinceMs = atMs;
    d.wrongCause = cause;
    d.wrongLo = lo;
    d.wrongHi = hi;
    for (let i = s.log.length - 2; i >= 0; i--) {
      const a = s.log[i]!;
      const next = s.log[i + 1]!;
      // The device reported something else after the right value stopped being this one: it is
      // not lagging on an old value but showing this one anew (e.g. an unread push recorded a
      // moment before the message it counts, whose attachment was still downloading).
      if (reported && d.prevReportMs !== undefined && next.atMs <= d.prevReportMs) break;
      if (d.shown >= a.lo && d.shown <= a.hi) {
        d.wrongSinceMs = Math.min(atMs, next.atMs);
        if (next.cause !== undefined) d.wrongCause = next.cause;
        break;
      }
    }
  }

  private endStretch(d: DeviceConv, atMs: number, end: HistoryEvent): void {
    const since = d.wrongSinceMs;
    if (since === undefined) return;
    d.wrongSinceMs = undefined;
    const ledger = this.ledger;
    const network = ledger.topology.networkOf(d.device);
    const quietFrom = ledger.faults.quietSince(network, since, atMs);
    if (quietFrom === undefined) {
      if (atMs - since > this.maxStaleMs) this.excusedByFault++;
      return;
    }
    const staleMs = atMs - quietFrom;
    if (staleMs > this.longestStaleMs) this.longestStaleMs = staleMs;
    if (staleMs <= this.maxStaleMs) return;
    this.staleStretches++;
    const s = d.state;
    const shown = d.last?.count;
    const cause = d.wrongCause;
    if (!this.witnesses.full) this.witnesses.add(
      buildWitness(ledger, {
        summary:
          `${d.device} (account ${s.account}) showed unread ${shown ?? '?'} for ${s.conv} for ${Math.round(staleMs)} ms` +
          ` while connected (bound ${this.maxStaleMs} ms) while the right value was ${d.wrongLo === undefined || d.wrongHi === undefined ? '?' : describeAccepted(d.wrongLo, d.wrongHi)}, until ${describeEnd(end)}`,
        device: d.device,
        atMs,
        events: [...(d.last !== undefined ? [d.last] : []), ...(cause !== undefined ? [cause] : []), ...(s.lastRead !== undefined ? [s.lastRead] : []), end],
        devices: [d.device],
        fromMs: since,
        toMs: atMs,
      }),
    );
  }

  /** `want`: the right value with every read applied (`latest(s)`). */
  private tryConverge(s: AccountConv, atMs: number, want: number): void {
    if (s.pendingSinceMs === undefined) return;
    for (const device of this.ledger.topology.devicesOf(s.account)) {
      if (s.devices.get(device)?.shown !== want) return;
    }
    this.histograms.recordMs('sync', atMs - s.pendingSinceMs);
    s.pendingSinceMs = undefined;
  }

  result(): CheckResult {
    const ledger = this.ledger;
    const metrics: Record<string, number> = {
      unreadEvents: this.unreadEvents,
      superseded: this.superseded,
      unknownReads: this.unknownReads,
      staleStretches: this.staleStretches,
      excusedByFault: this.excusedByFault,
      longestStaleMs: Math.round(this.longestStaleMs),
    };
    const driver = ledger.declaration;
    if (!driver.unreadCounts || driver.ordering !== 'number') {
      const why = !driver.unreadCounts ? 'reports no unread counts (capabilities.unreadCounts: false)' : `gives no numeric positions to count unread messages by (capabilities.ordering: '${driver.ordering}')`;
      return { name: this.name, status: 'not-checked', count: 0, witnesses: [], metrics, unsupported: true, note: `driver ${driver.name} ${why}` };
    }
    if (this.unreadEvents === 0) {
      return { name: this.name, status: 'not-checked', count: 0, witnesses: [], metrics, note: 'no unread events in the run' };
    }
    if (!ledger.ended) {
      return { name: this.name, status: 'not-checked', count: 0, witnesses: [], metrics, note: 'the history has no run-end event: final unread counts not judged' };
    }
    if (ledger.endReason !== undefined && ledger.endReason !== 'complete') {
      // Counts still converging when the harness stopped early are not the server's fault.
      return { name: this.name, status: 'not-checked', count: 0, witnesses: [], metrics, note: `the run ended early (${ledger.endReason}): final unread counts not judged` };
    }
    const witnesses = new WitnessList();
    for (const w of this.witnesses.items) witnesses.add(w);
    let wrong = 0;
    let unobserved = 0;
    let unknownAtEnd = 0;
    for (const s of this.allStates) {
      const devices = ledger.topology.devicesOf(s.account);
      if (!devices.some((d) => s.devices.get(d)?.last !== undefined)) {
        unobserved++;
        continue;
      }
      const lo = this.latest(s);
      const hi = s.unread.size;
      for (const device of devices) {
        const d = s.devices.get(device);
        const shown = d?.shown;
        if (shown === undefined && this.reconnected.has(device)) {
          unknownAtEnd++;
          continue;
        }
        const value = shown ?? 0;
        if (value >= lo && value <= hi) continue;
        wrong++;
        const last = d?.last;
        if (!witnesses.full) witnesses.add(
          buildWitness(ledger, {
            summary:
              `${device} (account ${s.account}) ends with unread ${shown ?? 'never reported'} for ${s.conv}, expected ${describeAccepted(lo, hi)}` +
              ` (read seq ${s.floor})`,
            device,
            atMs: last?.atMs ?? ledger.nowMs,
            events: [...(last !== undefined ? [last] : []), ...(s.lastRead !== undefined ? [s.lastRead] : [])],
            devices: [device],
            fromMs: last?.atMs ?? ledger.nowMs,
          }),
        );
      }
    }
    metrics['wrongAtEnd'] = wrong;
    metrics['unobserved'] = unobserved;
    metrics['unknownAtEnd'] = unknownAtEnd;
    const count = wrong + this.staleStretches;
    const out: CheckResult = { name: this.name, status: count > 0 ? 'fail' : 'pass', count, witnesses: witnesses.items, metrics };
    if (unknownAtEnd > 0) {
      out.note = `${unknownAtEnd} device count(s) unknown at the end: the device reconnected and reported no count after that (its driver records no welcome counts)`;
    }
    return out;
  }

  retained(): number {
    let n = this.allStates.length + this.offline.size + this.reconnected.size + this.pendingBy.size;
    for (const devices of this.shown.values()) n += devices.size;
    for (const s of this.allStates) n += s.unread.size + s.pending.size;
    return n;
  }
}

/** The accepted range [lo, hi] as the witnesses say it. */
function describeAccepted(lo: number, hi: number): string {
  return lo === hi ? String(lo) : `${lo}..${hi} (reads in flight or of unknown outcome)`;
}

function describeEnd(e: HistoryEvent): string {
  if (e.type === 'unread') return `it reported ${e.count} at ${Math.round(e.atMs)} ms`;
  if (e.type === 'disconnect') return `it disconnected at ${Math.round(e.atMs)} ms`;
  return `the right value came back to what it showed (${e.type} at ${Math.round(e.atMs)} ms)`;
}
