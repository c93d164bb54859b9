/**
 * Isolation: no device receives a message of a conversation its account is not a member of.
 * A device counts as entitled when its account is a member now, or when it was an expected
 * recipient when the message was sent (membership may change in between).
 */
import type { ConvEvent, HistoryEvent } from '../history/events.ts';
import type { Ledger, LedgerNote } from './ledger.ts';
import type { CheckResult, Checker } from './types.ts';
import { buildWitness, WitnessList } from './witness.ts';

export class IsolationChecker implements Checker {
  readonly name = 'isolation';
  private readonly lastConv = new Map<string, ConvEvent>();
  private deliveries = 0;
  private leaks = 0;
  private unknownConv = 0;
  private readonly witnesses = new WitnessList();

  constructor(private readonly ledger: Ledger) {}

  step(e: HistoryEvent, note: LedgerNote): void {
    const ledger = this.ledger;
    if (e.type === 'conv') {
      this.lastConv.set(e.conv, e);
      return;
    }
    if (e.type !== 'deliver') return;
    this.deliveries++;
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

  result(): CheckResult {
    const metrics = { deliveries: this.deliveries, unknownConv: this.unknownConv };
    if (this.deliveries === 0) {
      return { name: this.name, status: 'not-checked', count: 0, witnesses: [], metrics, note: 'no deliveries in the run' };
    }
    const out: CheckResult = { name: this.name, status: this.leaks > 0 ? 'fail' : 'pass', count: this.leaks, witnesses: this.witnesses.items, metrics };
    if (this.unknownConv > 0) out.note = `${this.unknownConv} deliveries were for conversations with no conv event; not judged`;
    return out;
  }

  retained(): number {
    return this.lastConv.size;
  }
}
