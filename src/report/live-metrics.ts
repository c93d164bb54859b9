/**
 * Live Prometheus metrics of a run, kept by a history listener (prom-client, one registry per run).
 *
 *   history events ──(listener batches)──> LiveMetrics.step ──> counters, gauges, histogram
 *                                                                    │
 *   GET /metrics (metrics-server.ts) ──> registry.metrics() ─────────┘  (+ anomalies read from the
 *                                                                          live judge on each scrape)
 *
 * Delivery delay is measured as the judge does, from the message's intended send time, so a
 * stalled sender shows as delay rather than hiding it (coordinated omission).
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { HistoryEvent } from '../history/events.ts';

/** Histogram bounds of delivery delay, seconds: 5 ms to 1 min (chat SLAs sit at 1 to 20 s). */
export const DELAY_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60];

/**
 * How long a sent message's intended time is kept for its deliveries, ms. Older entries are
 * dropped so a long run's memory does not grow with its length; a delivery later than this is
 * counted in `chatstorm_delivery_delay_untracked_total` instead of the histogram.
 */
export const DELAY_HORIZON_MS = 10 * 60_000;

/** Options of {@link LiveMetrics}. */
export interface LiveMetricsOptions {
  /** Anomalies found so far by check, read on each scrape (see live-anomalies.ts). */
  anomalies?: () => Record<string, number>;
}

/** The run's live metrics: feed it every history event with {@link LiveMetrics.step}. */
export class LiveMetrics {
  readonly registry = new Registry();
  private readonly sent = new Map<string, { intendedMs: number; kind: string }>();
  private readonly networkOf = new Map<string, string>();
  private readonly live = new Set<string>();
  private readonly activeFaults = new Map<string, string>();
  private readonly anomalyTotals = new Map<string, number>();

  private readonly delay: Histogram<'kind' | 'network'>;
  private readonly untracked: Counter;
  private readonly sends: Counter<'kind'>;
  private readonly resends: Counter;
  private readonly acks: Counter;
  private readonly nacks: Counter<'final'>;
  private readonly deliveries: Counter<'replay'>;
  private readonly connects: Counter;
  private readonly disconnects: Counter<'intentional'>;
  private readonly connected: Gauge;
  private readonly devices: Gauge;
  private readonly faults: Gauge<'network'>;
  private readonly loopLag: Gauge;
  private readonly senderLag: Gauge;
  private readonly info: Gauge<'run_id' | 'scenario' | 'seed'>;
  private readonly elapsed: Gauge;
  private lastAtMs = 0;

  constructor(opts: LiveMetricsOptions = {}) {
    const registers = [this.registry];
    this.delay = new Histogram({
      name: 'chatstorm_delivery_delay_seconds',
      help: 'Send-to-deliver delay per receiving device, from the intended send time',
      labelNames: ['kind', 'network'],
      buckets: DELAY_BUCKETS_S,
      registers,
    });
    this.untracked = new Counter({ name: 'chatstorm_delivery_delay_untracked_total', help: `Live deliveries more than ${DELAY_HORIZON_MS / 1000} s after the intended send (not in the histogram)`, registers });
    this.sends = new Counter({ name: 'chatstorm_sends_total', help: 'Messages sent (first attempts)', labelNames: ['kind'], registers });
    this.resends = new Counter({ name: 'chatstorm_resends_total', help: 'Send attempts after the first of the same message', registers });
    this.acks = new Counter({ name: 'chatstorm_acks_total', help: 'Sends acknowledged by the server', registers });
    this.nacks = new Counter({ name: 'chatstorm_nacks_total', help: 'Sends rejected by the server (final: not retried)', labelNames: ['final'], registers });
    this.deliveries = new Counter({ name: 'chatstorm_deliveries_total', help: 'Messages shown on a device (replay: by sync after a reconnect)', labelNames: ['replay'], registers });
    this.connects = new Counter({ name: 'chatstorm_connect_attempts_total', help: 'Connection attempts started by devices', registers });
    this.disconnects = new Counter({ name: 'chatstorm_disconnects_total', help: 'Connections lost or closed (intentional: closed by the harness)', labelNames: ['intentional'], registers });
    this.connected = new Gauge({ name: 'chatstorm_connected_devices', help: 'Devices connected and live', registers });
    this.devices = new Gauge({ name: 'chatstorm_devices', help: 'Devices in the run', registers });
    this.faults = new Gauge({ name: 'chatstorm_active_faults', help: 'Faults of the timeline now active, by network', labelNames: ['network'], registers });
    this.loopLag = new Gauge({ name: 'chatstorm_harness_event_loop_p99_seconds', help: "The harness's own event-loop delay p99 over the last window", registers });
    this.senderLag = new Gauge({ name: 'chatstorm_harness_sender_lag_p99_seconds', help: "The harness's sender lag (actual minus intended send time) p99 over the last window", registers });
    this.info = new Gauge({ name: 'chatstorm_run_info', help: 'The run being measured (value 1)', labelNames: ['run_id', 'scenario', 'seed'], registers });
    this.elapsed = new Gauge({ name: 'chatstorm_run_elapsed_seconds', help: 'Run time of the latest event seen', registers });
    const anomalies = opts.anomalies;
    const totals = this.anomalyTotals;
    new Counter({
      name: 'chatstorm_anomalies_total',
      help: 'Anomalies found so far by check (checks judged per event: duplicates, ordering, isolation, integrity, history; loss and sync are judged at the end)',
      labelNames: ['check'],
      registers,
      collect() {
        // The checks' own counts only grow; the counter follows them by the difference.
        for (const [check, n] of Object.entries(anomalies?.() ?? {})) {
          const before = totals.get(check) ?? 0;
          if (n > before) this.inc({ check }, n - before);
          else if (before === 0) this.inc({ check }, 0);
          totals.set(check, Math.max(n, before));
        }
      },
    });
  }

  /** Fold one history event into the metrics. */
  step = (e: HistoryEvent): void => {
    this.lastAtMs = e.atMs;
    switch (e.type) {
      case 'run-start':
        this.info.set({ run_id: e.runId, scenario: e.scenario, seed: String(e.seed) }, 1);
        break;
      case 'account':
        for (const d of e.devices) this.networkOf.set(d, e.network);
        this.devices.set(this.networkOf.size);
        break;
      case 'connect':
        this.connects.inc();
        break;
      case 'connected':
        this.live.add(e.device);
        this.connected.set(this.live.size);
        break;
      case 'disconnect':
        this.live.delete(e.device);
        this.connected.set(this.live.size);
        this.disconnects.inc({ intentional: String(e.intentional) });
        break;
      case 'send':
        if (e.attempt !== 1) {
          this.resends.inc();
          break;
        }
        this.sends.inc({ kind: e.kind });
        this.sent.set(e.key, { intendedMs: e.intendedMs, kind: e.kind });
        this.prune(e.atMs);
        break;
      case 'ack':
        this.acks.inc();
        break;
      case 'nack':
        this.nacks.inc({ final: String(e.final) });
        break;
      case 'deliver': {
        this.deliveries.inc({ replay: String(e.replay) });
        if (e.replay) break;
        const s = this.sent.get(e.key);
        if (s === undefined) this.untracked.inc();
        else this.delay.observe({ kind: s.kind, network: this.networkOf.get(e.device) ?? 'unknown' }, Math.max(0, e.atMs - s.intendedMs) / 1000);
        break;
      }
      case 'fault':
        if (e.phase === 'start') this.activeFaults.set(e.fault, e.network);
        else this.activeFaults.delete(e.fault);
        this.setFaults(e.network);
        break;
      case 'lag':
        this.loopLag.set(e.eventLoopP99Ms / 1000);
        this.senderLag.set(e.senderLagP99Ms / 1000);
        break;
      case 'run-end':
        this.live.clear();
        this.connected.set(0);
        break;
      default:
        break;
    }
    this.elapsed.set(this.lastAtMs / 1000);
  };

  /** The exposition text, as served on /metrics. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  private setFaults(network: string): void {
    let n = 0;
    for (const net of this.activeFaults.values()) if (net === network) n++;
    this.faults.set({ network }, n);
  }

  /** Drop intended times older than the horizon (the map is in send order). */
  private prune(nowMs: number): void {
    for (const [key, s] of this.sent) {
      if (nowMs - s.intendedMs <= DELAY_HORIZON_MS) break;
      this.sent.delete(key);
    }
  }
}
