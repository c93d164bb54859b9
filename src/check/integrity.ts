/**
 * Integrity: attachments arrive byte-identical — the sha256 list on each delivery equals, in
 * order, the list the sender recorded (`SendEvent.sha256`). The runner records hashes only when
 * devices download attachments; without any hashed send the check says `not-checked`.
 */
import type { HistoryEvent } from '../history/events.ts';
import type { Ledger, LedgerNote } from './ledger.ts';
import type { CheckResult, Checker } from './types.ts';
import { buildWitness, WitnessList } from './witness.ts';

export class IntegrityChecker implements Checker {
  readonly name = 'integrity';
  private attachmentSends = 0;
  private sendsWithSha = 0;
  private deliveriesWithSha = 0;
  private verified = 0;
  private unverifiable = 0;
  private corrupt = 0;
  private readonly witnesses = new WitnessList();

  constructor(private readonly ledger: Ledger) {}

  step(e: HistoryEvent, note: LedgerNote): void {
    if (e.type === 'send' && note.type === 'send' && note.first) {
      if ((e.attachmentBytes?.length ?? 0) > 0 || e.kind === 'image' || e.kind === 'file') this.attachmentSends++;
      if (note.msg.sentSha256 !== undefined) this.sendsWithSha++;
      return;
    }
    if (e.type !== 'deliver' || note.type !== 'deliver') return;
    if (e.sha256 !== undefined) this.deliveriesWithSha++;
    const sent = note.msg?.sentSha256;
    if (sent === undefined) {
      if (e.sha256 !== undefined) this.unverifiable++;
      return;
    }
    const got = e.sha256 ?? [];
    if (sameList(got, sent)) {
      this.verified++;
      return;
    }
    this.corrupt++;
    const msg = note.msg!;
    if (!this.witnesses.full) this.witnesses.add(
      buildWitness(this.ledger, {
        summary:
          `${e.device} received ${e.key} with attachments [${got.map((s) => s.slice(0, 12)).join(', ')}]` +
          `, sent as [${sent.map((s) => s.slice(0, 12)).join(', ')}]`,
        key: e.key,
        device: e.device,
        atMs: e.atMs,
        msg,
        msgTrail: note.trail,
        events: [e],
        devices: [e.device],
      }),
    );
  }

  result(): CheckResult {
    const metrics = {
      attachmentSends: this.attachmentSends,
      verified: this.verified,
      corrupt: this.corrupt,
      unverifiable: this.unverifiable,
    };
    if (this.attachmentSends === 0 && this.deliveriesWithSha === 0 && this.sendsWithSha === 0) {
      return { name: this.name, status: 'not-checked', count: 0, witnesses: [], metrics, note: 'no attachments in the run' };
    }
    if (this.sendsWithSha === 0) {
      return {
        name: this.name,
        status: 'not-checked',
        count: 0,
        witnesses: [],
        metrics,
        note: 'the send side records no sha256 (SendEvent has no sha256 field), so received attachments cannot be compared',
      };
    }
    if (this.verified + this.corrupt === 0) {
      return { name: this.name, status: 'not-checked', count: 0, witnesses: [], metrics, note: 'no delivery of a message with recorded attachments' };
    }
    return { name: this.name, status: this.corrupt > 0 ? 'fail' : 'pass', count: this.corrupt, witnesses: this.witnesses.items, metrics };
  }
}

/** Same strings in the same order (a loop, not `every` with a closure: this runs per delivery). */
function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
