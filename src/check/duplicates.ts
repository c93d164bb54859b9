/**
 * Duplicates: one sent message (one key) stored under two or more server ids, seen in acks
 * and/or deliveries — the user sees it twice. The same server id delivered again to a device
 * (sync replay overlap) is harmless: counted as `redelivery`, never failed. An unknown-outcome
 * send that shows up under two ids is a duplicate like any other.
 */
import type { HistoryEvent } from '../history/events.ts';
import { idCount, serverIds, type Ledger, type LedgerNote } from './ledger.ts';
import type { CheckResult, Checker } from './types.ts';
import { buildWitness, WitnessList } from './witness.ts';

export class DuplicatesChecker implements Checker {
  readonly name = 'duplicates';
  private duplicated = 0;
  private extraIds = 0;
  private redelivery = 0;
  private late = 0;
  private readonly witnesses = new WitnessList();

  constructor(private readonly ledger: Ledger) {}

  step(e: HistoryEvent, note: LedgerNote): void {
    if (note.type === 'deliver') {
      if (note.cls === 'redelivery') this.redelivery++;
      else if (note.cls === 'late') this.late++;
    }
    // Per-copy ids (each recipient's copy has its own): a device shown one key under two ids.
    if (note.type === 'deliver' && note.againAtDevice && note.msg !== undefined && e.type === 'deliver' && this.ledger.declaration.serverIds === 'per-copy') {
      const msg = note.msg;
      this.extraIds++;
      this.duplicated++;
      if (!this.witnesses.full) this.witnesses.add(
        buildWitness(this.ledger, {
          summary: `${msg.key} in ${msg.conv} was shown twice on ${e.device}, the second time as ${e.id ?? '(no id)'}`,
          key: msg.key,
          device: e.device,
          atMs: e.atMs,
          msg,
          msgTrail: note.trail,
          events: [e],
          devices: [msg.sender, e.device],
        }),
      );
      return;
    }
    if ((note.type === 'ack' || note.type === 'deliver') && note.newId && note.msg !== undefined && idCount(note.msg) > 1) {
      const msg = note.msg;
      this.extraIds++;
      if (idCount(msg) !== 2) return;
      this.duplicated++;
      if (!this.witnesses.full) this.witnesses.add(
        buildWitness(this.ledger, {
          summary:
            `${msg.key} in ${msg.conv} was stored twice: ${serverIds(msg).map(([id, seq]) => (seq === undefined ? id : `${id} (seq ${seq})`)).join(' and ')}` +
            (msg.outcome === 'unknown' ? ' (send outcome unknown)' : ''),
          key: msg.key,
          device: 'device' in e ? e.device : undefined,
          atMs: e.atMs,
          msg,
          msgTrail: note.trail,
          events: [e],
          devices: [msg.sender],
        }),
      );
    }
  }

  result(): CheckResult {
    const ledger = this.ledger;
    const metrics = { redelivery: this.redelivery, extraIds: this.extraIds, lateArrivals: this.late };
    const driver = ledger.declaration;
    if (driver.serverIds === 'none') {
      return { name: this.name, status: 'not-checked', count: 0, witnesses: [], metrics, unsupported: true, note: `driver ${driver.name} shows no server ids, so two stored copies cannot be told from one shown twice (capabilities.serverIds: 'none')` };
    }
    if (ledger.totals.messages === 0) {
      return { name: this.name, status: 'not-checked', count: 0, witnesses: [], metrics, note: 'no sends in the history' };
    }
    const out: CheckResult = {
      name: this.name,
      status: this.duplicated > 0 ? 'fail' : 'pass',
      count: this.duplicated,
      witnesses: this.witnesses.items,
      metrics,
    };
    if (this.late > 0) {
      out.note = `${this.late} arrival(s) of messages settled more than ${ledger.retainSettledMs} ms earlier were not judged for duplicates`;
    }
    return out;
  }
}
