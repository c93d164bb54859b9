/**
 * Loss: a message the server stored (acknowledged, or proven stored by any delivery) that some
 * expected device never received by the end of the run. Judged at `run-end`, which the runner
 * emits after the grace period; without it (crashed run), or when the run ended early
 * (interrupted, overloaded, failed: no grace period), the check says `not-checked`.
 */
import type { Ledger } from './ledger.ts';
import type { CheckResult, Checker } from './types.ts';
import { buildWitness, WitnessList } from './witness.ts';

export class LossChecker implements Checker {
  readonly name = 'loss';

  /** Loss is read off the ledger's records in flight at the end: nothing to fold per event. */
  constructor(private readonly ledger: Ledger) {}

  step(): void {}

  result(): CheckResult {
    const ledger = this.ledger;
    if (ledger.totals.messages === 0) {
      return { name: this.name, status: 'not-checked', count: 0, witnesses: [], note: 'no sends in the history' };
    }
    let lost = 0;
    let missingDeliveries = 0;
    let unknownNotStored = 0;
    let unknownStored = 0;
    const witnesses = new WitnessList();
    for (const msg of ledger.pending()) {
      const stored = msg.outcome === 'ok' || msg.firstId !== undefined;
      if (!stored) {
        if (msg.outcome === 'unknown') unknownNotStored++;
        continue;
      }
      if (msg.outcome === 'unknown') unknownStored++;
      if (msg.missing.size === 0) continue;
      lost++;
      missingDeliveries += msg.missing.size;
      const missing = [...msg.missing];
      if (!witnesses.full) witnesses.add(
        buildWitness(ledger, {
          summary:
            `${msg.key} (${msg.outcome === 'ok' ? 'acknowledged' : 'outcome unknown, but delivered'}` +
            ` in ${msg.conv}) never reached ${missing.length} of ${msg.expectedCount} expected device(s): ` +
            missing.slice(0, 5).join(', ') + (missing.length > 5 ? ', ...' : ''),
          key: msg.key,
          device: missing[0],
          atMs: msg.ackAtMs ?? msg.firstSendAtMs,
          msg,
          devices: [msg.sender, ...missing.slice(0, 3)],
          toMs: ledger.nowMs,
        }),
      );
    }
    const metrics = {
      messages: ledger.totals.messages,
      acked: ledger.totals.acked,
      failed: ledger.totals.failed,
      unknownNotStored,
      unknownStored,
      missingDeliveries,
    };
    if (!ledger.ended) {
      return {
        name: this.name,
        status: 'not-checked',
        count: 0,
        witnesses: [],
        metrics: { ...metrics, undeliveredAtCrash: missingDeliveries },
        note: 'the history has no run-end event (crashed or cut-off run): undelivered messages may still have been in flight',
      };
    }
    if (ledger.endReason !== undefined && ledger.endReason !== 'complete') {
      // The harness stopped early (interrupted, overloaded, failed): messages still on their way
      // then are not the server's loss, and which ones were is not known.
      return {
        name: this.name,
        status: 'not-checked',
        count: 0,
        witnesses: [],
        metrics: { ...metrics, undeliveredAtEnd: missingDeliveries },
        note: `the run ended early (${ledger.endReason}) before its grace period: undelivered messages may still have been in flight`,
      };
    }
    const out: CheckResult = { name: this.name, status: lost > 0 ? 'fail' : 'pass', count: lost, witnesses: witnesses.items, metrics };
    if (unknownNotStored > 0) {
      // Not a loss (DESIGN: an unknown outcome is not a failure), but a backlog left when the
      // grace period ended looks like this too, and the delay percentiles cover only what
      // arrived: say how large a share it is and how to gate on it.
      const share = (100 * unknownNotStored) / Math.max(1, ledger.totals.messages);
      out.note =
        `${unknownNotStored} of ${ledger.totals.messages} send(s) (${share < 0.1 ? '< 0.1' : share.toFixed(1)} %) got no ack and never arrived anywhere: ` +
        'their outcome is unknown, so not counted as loss, and the delay percentiles leave them out; ' +
        "to fail on them, add the SLA 'loss.unknownNotStored == 0' (or give the run a longer grace period if the server was still catching up)";
    }
    return out;
  }
}
