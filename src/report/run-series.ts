/**
 * Per-second series of a run for report.html's charts: throughput, devices live, connection
 * attempts, failures and losses, and the harness's own lag. A history listener; it only counts.
 *
 * Connection failures: the history has no event for a failed attempt yet, so an attempt counts
 * as failed when the same device starts another one without having connected in between. When
 * the history gains explicit attempt-failure events, they fill the same `connectFailed` series.
 */
import type { HistoryEvent } from '../history/events.ts';

/** The series, one entry per second of run time from 0 (index = second). */
export interface RunSeriesData {
  /** Second of the run each entry covers. */
  tS: number[];
  sent: number[];
  acked: number[];
  delivered: number[];
  /** Devices live at the end of the second. */
  liveDevices: number[];
  connectAttempts: number[];
  connectFailed: number[];
  /** Connections lost while live (not closed by the harness). */
  connectionsLost: number[];
  /** Harness self-measurement (`lag` events) in that second, or null. */
  eventLoopP99Ms: (number | null)[];
  senderLagP99Ms: (number | null)[];
}

/** Bound on the number of seconds kept (a 24 h soak run); later events fold into the last second. */
const MAX_SECONDS = 86_400;

/** Folds the history into {@link RunSeriesData}. */
export class RunSeries {
  private readonly d: RunSeriesData = {
    tS: [],
    sent: [],
    acked: [],
    delivered: [],
    liveDevices: [],
    connectAttempts: [],
    connectFailed: [],
    connectionsLost: [],
    eventLoopP99Ms: [],
    senderLagP99Ms: [],
  };
  private readonly live = new Set<string>();
  private readonly attempting = new Set<string>();

  step = (e: HistoryEvent): void => {
    const i = this.second(e.atMs);
    switch (e.type) {
      case 'send':
        if (e.attempt === 1) this.d.sent[i]!++;
        break;
      case 'ack':
        this.d.acked[i]!++;
        break;
      case 'deliver':
        if (!e.replay) this.d.delivered[i]!++;
        break;
      case 'connect':
        this.d.connectAttempts[i]!++;
        if (this.attempting.has(e.device)) this.d.connectFailed[i]!++;
        this.attempting.add(e.device);
        break;
      case 'connected':
        this.attempting.delete(e.device);
        this.live.add(e.device);
        this.d.liveDevices[i] = this.live.size;
        break;
      case 'disconnect':
        if (!e.intentional && this.live.has(e.device)) this.d.connectionsLost[i]!++;
        this.live.delete(e.device);
        this.d.liveDevices[i] = this.live.size;
        break;
      case 'lag':
        this.d.eventLoopP99Ms[i] = Math.max(this.d.eventLoopP99Ms[i] ?? 0, e.eventLoopP99Ms);
        this.d.senderLagP99Ms[i] = Math.max(this.d.senderLagP99Ms[i] ?? 0, e.senderLagP99Ms);
        break;
      default:
        break;
    }
  };

  /** The series so far. */
  result(): RunSeriesData {
    return this.d;
  }

  /** Index of the second holding `atMs`, growing every series to it. */
  private second(atMs: number): number {
    const i = Math.min(MAX_SECONDS - 1, Math.max(0, Math.floor(atMs / 1000)));
    while (this.d.tS.length <= i) {
      const prevLive = this.d.liveDevices.at(-1) ?? 0;
      this.d.tS.push(this.d.tS.length);
      this.d.sent.push(0);
      this.d.acked.push(0);
      this.d.delivered.push(0);
      this.d.liveDevices.push(prevLive);
      this.d.connectAttempts.push(0);
      this.d.connectFailed.push(0);
      this.d.connectionsLost.push(0);
      this.d.eventLoopP99Ms.push(null);
      this.d.senderLagP99Ms.push(null);
    }
    return i;
  }
}
