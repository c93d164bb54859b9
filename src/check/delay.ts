/**
 * Delay metrics (no pass/fail: SLAs judge them). All message latencies are measured from the
 * send's *intended* time, so a stalled sender cannot hide delay (coordinated omission).
 *
 * Histogram names:
 *   delivery              first arrival at each expected recipient device − intendedMs
 *   delivery[<kind>]      the same, per message kind: delivery[text], delivery[image], ...
 *   delivery{<network>}   the same, per network profile of the *receiving* device: delivery{eu-customers}
 *   delivery@<phase>      the same, by fault phase at the intended send time:
 *                         @fault (any fault active), @recovery (≤ 10 s after the last fault
 *                         ended), @steady (otherwise)
 *   ack                   first ack − intendedMs
 *   connect / reconnect   connected.tookMs of a device's first connection / of later ones
 */
import type { HistoryEvent } from '../history/events.ts';
import { HistogramSet, LatencyHistogram } from '../stats/hdr.ts';
import type { DelayPoint } from './types.ts';
import { ledgerHandle, type Ledger, type LedgerHandle } from './ledger.ts';

export class DelayMetrics {
  readonly name = 'delay';
  readonly histograms = new HistogramSet();
  private readonly h: LedgerHandle;
  private readonly everConnected = new Set<string>();
  /**
   * `delivery` per second of arrival, for the report's chart. One digit of precision and a
   * 0.1 ms floor keep each second under about 1 KB, so an hour costs a few MB.
   */
  private readonly perSecond = new Map<number, LatencyHistogram>();

  constructor(ledger?: Ledger) {
    this.h = ledgerHandle(ledger);
  }

  step(e: HistoryEvent): void {
    const ledger = this.h.ledger;
    if (this.h.owned) ledger.step(e);
    if (e.type === 'connected') {
      const again = this.everConnected.has(e.device);
      if (!again) this.everConnected.add(e.device);
      this.histograms.recordMs(again ? 'reconnect' : 'connect', e.tookMs);
      return;
    }
    const note = ledger.last;
    if (note === undefined || note.msg === undefined) return;
    if (note.type === 'deliver' && e.type === 'deliver') {
      if (!note.firstForDevice || !note.expected) return;
      const msg = note.msg;
      const ms = e.atMs - msg.intendedMs;
      this.histograms.recordMs('delivery', ms);
      const second = Math.floor(e.atMs / 1000);
      let h = this.perSecond.get(second);
      if (!h) this.perSecond.set(second, (h = new LatencyHistogram({ digits: 1, lowestUs: 100 })));
      h.recordMs(ms);
      this.histograms.recordMs(`delivery[${msg.kind}]`, ms);
      this.histograms.recordMs(`delivery{${ledger.topology.networkOf(e.device)}}`, ms);
      this.histograms.recordMs(`delivery@${ledger.faults.phaseAt(msg.intendedMs)}`, ms);
    } else if (note.type === 'ack' && note.firstAck && e.type === 'ack') {
      this.histograms.recordMs('ack', e.atMs - note.msg.intendedMs);
    }
  }

  /** Delivery delay per second, in time order. */
  series(): DelayPoint[] {
    return [...this.perSecond.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([tS, h]) => {
        const s = h.summary();
        return { tS, count: s.count, p50Ms: s.p50Ms, p99Ms: s.p99Ms, maxMs: s.maxMs };
      });
  }

  retained(): number {
    return this.everConnected.size;
  }
}
