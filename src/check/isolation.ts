/**
 * Isolation: no device receives a message of a conversation its account is not a member of.
 * A device counts as entitled when its account is a member now, or when it was an expected
 * recipient when the message was sent (membership may change in between).
 *
 * Attachments too: a `fetch` event (the runner's attachment probe) that the server `served` to a
 * device whose account is not a member of the attachment's conversation is a leak. Refused
 * probes are counted (`attachmentProbes`, `attachmentRefused`); a run without probes says so.
 */
import type { ConvEvent, FetchEvent, HistoryEvent } from '../history/events.ts';
import type { Ledger, LedgerNote } from './ledger.ts';
import type { CheckResult, Checker } from './types.ts';
import { buildWitness, WitnessList } from './witness.ts';

export class IsolationChecker implements Checker {
  readonly name = 'isolation';
  private readonly lastConv = new Map<string, ConvEvent>();
  private deliveries = 0;
  private leaks = 0;
  private unknownConv = 0;
  private probes = 0;
  private attachmentDeliveries = 0;
  private probesRefused = 0;
  private probesUnanswered = 0;
  private attachmentLeaks = 0;
  private readonly witnesses = new WitnessList();

  constructor(private readonly ledger: Ledger) {}

  step(e: HistoryEvent, note: LedgerNote): void {
    const ledger = this.ledger;
    if (e.type === 'conv') {
      this.lastConv.set(e.conv, e);
      return;
    }
    if (e.type === 'fetch') {
      this.onFetch(e, ledger);
      return;
    }
    if (e.type !== 'deliver') return;
    this.deliveries++;
    if (e.attachments !== undefined) this.attachmentDeliveries++;
    if (note.type === 'deliver' && note.expected) return;
    const members = ledger.topology.membersOf(e.conv);
    const account = ledger.topology.accountOf(e.device) ?? e.account;
    if (members === undefined) {
      this.unknownConv++;
      return;
    }
    if (members.has(account)) return;
    this.leaks++;
    const convEvent = this.lastConv.get(e.conv);
    if (!this.witnesses.full) this.witnesses.add(
      buildWitness(ledger, {
        summary: `${e.device} (account ${account}) received ${e.key} of ${e.conv}, whose members are ${[...members].join(', ')}`,
        key: e.key,
        device: e.device,
        atMs: e.atMs,
        msg: note.type === 'deliver' ? note.msg : undefined,
        msgTrail: note.type === 'deliver' ? note.trail : undefined,
        events: [...(convEvent !== undefined ? [convEvent] : []), e],
      }),
    );
  }

  private onFetch(e: FetchEvent, ledger: Ledger): void {
    this.probes++;
    if (e.outcome === 'refused') this.probesRefused++;
    if (e.outcome === 'unknown') this.probesUnanswered++;
    if (e.outcome !== 'served') return;
    const members = ledger.topology.membersOf(e.conv);
    const account = ledger.topology.accountOf(e.device) ?? e.account;
    if (members === undefined || members.has(account)) return;
    this.attachmentLeaks++;
    const convEvent = this.lastConv.get(e.conv);
    if (!this.witnesses.full) this.witnesses.add(
      buildWitness(ledger, {
        summary:
          `${e.device} (account ${account}) was served attachment ${e.attachment} of ${e.key} in ${e.conv}, ` +
          `whose members are ${[...members].join(', ')}`,
        key: e.key,
        device: e.device,
        atMs: e.atMs,
        msg: ledger.get(e.key),
        events: [...(convEvent !== undefined ? [convEvent] : []), e],
      }),
    );
  }

  result(): CheckResult {
    const metrics = {
      deliveries: this.deliveries,
      unknownConv: this.unknownConv,
      attachmentProbes: this.probes,
      attachmentRefused: this.probesRefused,
      attachmentLeaks: this.attachmentLeaks,
    };
    const count = this.leaks + this.attachmentLeaks;
    if (this.deliveries === 0 && this.probes === 0) {
      return { name: this.name, status: 'not-checked', count: 0, witnesses: [], metrics, note: 'no deliveries in the run' };
    }
    const out: CheckResult = { name: this.name, status: count > 0 ? 'fail' : 'pass', count, witnesses: this.witnesses.items, metrics };
    const notes: string[] = [];
    if (this.unknownConv > 0) notes.push(`${this.unknownConv} deliveries were for conversations with no conv event; not judged`);
    if (this.probes === 0 && this.attachmentDeliveries > 0) notes.push('attachment access not probed (the driver cannot fetch attachments, or no prober was live)');
    else if (this.probesUnanswered > 0) notes.push(`${this.probesUnanswered} of ${this.probes} attachment probes got no answer`);
    if (notes.length > 0) out.note = notes.join('; ');
    return out;
  }

  retained(): number {
    return this.lastConv.size;
  }
}
