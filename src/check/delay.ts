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
import type { Ledger, LedgerNote } from './ledger.ts';

export class DelayMetrics {
  readonly name = 'delay';
  readonly histograms = new HistogramSet();
  private readonly everConnected = new Set<string>();
  /**
   * `delivery` per second of arrival, for the report's chart. One digit of precision and a
   * 0.1 ms floor keep each second under about 1 KB, so an hour costs a few MB.
   */
  private readonly perSecond = new Map<number, LatencyHistogram>();
  /** The last second's histogram: arrivals come in time order, so nearly every lookup hits it. */
  private second = NaN;
  private secondHist: LatencyHistogram | undefined;
  /**
   * Histograms held by what selects them, so a delivery builds no name and looks nothing up by
   * name (each is still created, and listed in `histograms`, on first use as before).
   */
  private delivery: LatencyHistogram | undefined;
  private ack: LatencyHistogram | undefined;
  private readonly byKind = new Map<string, LatencyHistogram>();
  private readonly byPhase = new Map<string, LatencyHistogram>();
  /** Receiving device -> its network's histogram; cleared on `account` events (networks may change). */
  private readonly byDevice = new Map<string, LatencyHistogram>();

  constructor(private readonly ledger: Ledger) {}

  step(e: HistoryEvent, note: LedgerNote): void {
    const ledger = this.ledger;
    if (e.type === 'connected') {
      const again = this.everConnected.has(e.device);
      if (!again) this.everConnected.add(e.device);
      this.histograms.recordMs(again ? 'reconnect' : 'connect', e.tookMs);
      return;
    }
    if (e.type === 'account') {
      this.byDevice.clear();
      return;
    }
    if (note.type === 'deliver' && e.type === 'deliver') {
      if (note.msg === undefined || !note.firstForDevice || !note.expected) return;
      const msg = note.msg;
      const ms = e.atMs - msg.intendedMs;
      (this.delivery ??= this.histograms.histogram('delivery')).recordMs(ms);
      const second = Math.floor(e.atMs / 1000);
      let h = this.secondHist;
      if (second !== this.second || h === undefined) {
        h = this.perSecond.get(second);
        if (!h) this.perSecond.set(second, (h = new LatencyHistogram({ digits: 1, lowestUs: 100 })));
        this.second = second;
        this.secondHist = h;
      }
      h.recordMs(ms);
      let byKind = this.byKind.get(msg.kind);
      if (byKind === undefined) this.byKind.set(msg.kind, (byKind = this.histograms.histogram(`delivery[${msg.kind}]`)));
      byKind.recordMs(ms);
      let byNetwork = this.byDevice.get(e.device);
      if (byNetwork === undefined) {
        byNetwork = this.histograms.histogram(`delivery{${ledger.topology.networkOf(e.device)}}`);
        this.byDevice.set(e.device, byNetwork);
      }
      byNetwork.recordMs(ms);
      const phase = ledger.faults.phaseAt(msg.intendedMs);
      let byPhase = this.byPhase.get(phase);
      if (byPhase === undefined) this.byPhase.set(phase, (byPhase = this.histograms.histogram(`delivery@${phase}`)));
      byPhase.recordMs(ms);
    } else if (note.type === 'ack' && note.msg !== undefined && note.firstAck && e.type === 'ack') {
      (this.ack ??= this.histograms.histogram('ack')).recordMs(e.atMs - note.msg.intendedMs);
    }
  }

  /** The per-second delivery histograms behind {@link series}, by second (for merging shards). */
  secondHistograms(): ReadonlyMap<number, LatencyHistogram> {
    return this.perSecond;
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
    return this.everConnected.size + this.byDevice.size;
  }
}
