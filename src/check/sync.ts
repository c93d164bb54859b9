/**
 * Sync: unread counts converge on every device of an account, to the right value, and how fast.
 *
 * Right value, per (account, conversation): the number of stored messages (server ids, so a
 * duplicate counts twice, as the server would) with seq above the account's read seq (highest
 * `read` of any of its devices), not sent by that account. It changes when a message is first
 * seen stored (ack or delivery) and when the read seq advances.
 *
 * Convergence time (`sync` histogram): from the latest change of the right value to the moment
 * every device of the account last reported it. A change superseded before convergence is not
 * timed (counted as `superseded`). At `run-end` every device of an observed account (one with at
 * least one unread report for the conversation) must show the right value; a sibling device that
 * never reported fails too. Accounts never observed for a conversation are counted
 * (`unobserved`), not judged. Without `run-end` the final state is not judged (`not-checked`).
 *
 * Memory: per (account, conversation) the seqs still unread — it grows only while an account
 * leaves messages unread.
 */
import type { HistoryEvent, ReadEvent, UnreadEvent } from '../history/events.ts';
import { HistogramSet } from '../stats/hdr.ts';
import { ledgerHandle, type Ledger, type LedgerHandle } from './ledger.ts';
import type { CheckResult, Checker } from './types.ts';
import { buildWitness, WitnessList } from './witness.ts';

interface AccountConv {
  account: string;
  conv: string;
  readSeq: number;
  lastRead?: ReadEvent;
  unread: Set<number>;
  /** Time of the latest change not yet converged on. */
  pendingSinceMs?: number;
}

export class SyncChecker implements Checker {
  readonly name = 'sync';
  readonly histograms = new HistogramSet();
  private readonly h: LedgerHandle;
  private readonly states = new Map<string, AccountConv>();
  /** device\0conv -> last unread event. */
  private readonly reported = new Map<string, UnreadEvent>();
  private unreadEvents = 0;
  private superseded = 0;

  constructor(ledger?: Ledger) {
    this.h = ledgerHandle(ledger);
  }

  private state(account: string, conv: string): AccountConv {
    const k = account + '\0' + conv;
    let s = this.states.get(k);
    if (s === undefined) {
      s = { account, conv, readSeq: 0, unread: new Set() };
      this.states.set(k, s);
    }
    return s;
  }

  step(e: HistoryEvent): void {
    const ledger = this.h.ledger;
    if (this.h.owned) ledger.step(e);
    switch (e.type) {
      case 'unread':
        this.unreadEvents++;
        this.reported.set(e.device + '\0' + e.conv, e);
        this.tryConverge(this.state(ledger.topology.accountOf(e.device) ?? e.account, e.conv), e.atMs);
        return;
      case 'read': {
        const s = this.state(ledger.topology.accountOf(e.device) ?? e.account, e.conv);
        s.lastRead = e;
        if (e.seq <= s.readSeq) return;
        s.readSeq = e.seq;
        const before = s.unread.size;
        for (const seq of s.unread) if (seq <= e.seq) s.unread.delete(seq);
        if (s.unread.size !== before) this.changed(s, e.atMs);
        return;
      }
      case 'ack':
      case 'deliver': {
        const note = ledger.last;
        if ((note?.type !== 'ack' && note?.type !== 'deliver') || !note.newId || note.msg === undefined) return;
        const senderAccount = note.msg.senderAccount;
        for (const account of ledger.topology.membersOf(e.conv) ?? []) {
          if (account === senderAccount) continue;
          const s = this.state(account, e.conv);
          if (e.seq > s.readSeq && !s.unread.has(e.seq)) {
            s.unread.add(e.seq);
            this.changed(s, e.atMs);
          }
        }
        return;
      }
      default:
        return;
    }
  }

  private changed(s: AccountConv, atMs: number): void {
    if (s.pendingSinceMs !== undefined) this.superseded++;
    s.pendingSinceMs = atMs;
    this.tryConverge(s, atMs);
  }

  private tryConverge(s: AccountConv, atMs: number): void {
    if (s.pendingSinceMs === undefined) return;
    for (const d of this.h.ledger.topology.devicesOf(s.account)) {
      if (this.reported.get(d + '\0' + s.conv)?.count !== s.unread.size) return;
    }
    this.histograms.recordMs('sync', atMs - s.pendingSinceMs);
    s.pendingSinceMs = undefined;
  }

  result(): CheckResult {
    const ledger = this.h.ledger;
    const metrics: Record<string, number> = { unreadEvents: this.unreadEvents, superseded: this.superseded };
    if (this.unreadEvents === 0) {
      return { name: this.name, status: 'not-checked', count: 0, witnesses: [], metrics, note: 'no unread events in the run' };
    }
    if (!ledger.ended) {
      return { name: this.name, status: 'not-checked', count: 0, witnesses: [], metrics, note: 'the history has no run-end event: final unread counts not judged' };
    }
    const witnesses = new WitnessList();
    let wrong = 0;
    let unobserved = 0;
    for (const s of this.states.values()) {
      const expected = s.unread.size;
      const devices = ledger.topology.devicesOf(s.account);
      if (!devices.some((d) => this.reported.has(d + '\0' + s.conv))) {
        unobserved++;
        continue;
      }
      for (const d of devices) {
        const last = this.reported.get(d + '\0' + s.conv);
        const shown = last?.count;
        if (shown === expected || (shown === undefined && expected === 0)) continue;
        wrong++;
        witnesses.offer(() =>
          buildWitness(ledger, {
            summary:
              `${d} (account ${s.account}) ends with unread ${shown ?? 'never reported'} for ${s.conv}, expected ${expected}` +
              ` (read seq ${s.readSeq})`,
            device: d,
            atMs: last?.atMs ?? ledger.nowMs,
            events: [...(last !== undefined ? [last] : []), ...(s.lastRead !== undefined ? [s.lastRead] : [])],
            devices: [d],
            fromMs: last?.atMs ?? ledger.nowMs,
          }),
        );
      }
    }
    metrics['wrongAtEnd'] = wrong;
    metrics['unobserved'] = unobserved;
    return { name: this.name, status: wrong > 0 ? 'fail' : 'pass', count: wrong, witnesses: witnesses.items, metrics };
  }

  retained(): number {
    let n = this.states.size + this.reported.size;
    for (const s of this.states.values()) n += s.unread.size;
    return n;
  }
}
