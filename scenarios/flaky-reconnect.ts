/**
 * Incident: messages duplicated or out of order after the app reconnects. Connections churn all
 * evening: phones drop right after sending (before the ack comes back) so they resend, the
 * customers' link resets connections (`reset_peer`) for a stretch, the agents' link goes silent and
 * times out (`timeout`), the agents' network is out for a few seconds, and half the customers'
 * connections drop at once (a reconnect storm).
 *
 * Gates: `duplicates == 0` (a resend of a message the server already stored must not be stored
 * again: dedup by client id across reconnects), the `ordering` check across reconnects (per-sender
 * FIFO, devices agreeing on each conversation's order), `loss == 0` (catch-up after a reconnect
 * delivers what was missed), reconnect time `reconnect.p99 < 10s` (a reconnect lasts as long as the
 * fault that caused it, plus backoff) and `delivery.p99 < 15s`.
 *
 * Expected on the reference server: pass. With `--defect no-dedup --defect-rate 1` (the server
 * stores a resend of an already stored message again) it fails on the `duplicates` check: the sends
 * cut off by `kill-after-send` are resent after the reconnect and stored twice.
 *
 * Full run: 60 s of traffic (measured: pass, 69 s in all with `chatstorm run`). Quick mode
 * (`--quick`): 8 s, 30 % of the population (enough devices that each fault still hits several of
 * them), every fault at its scaled time and at least 1 s long; measured 13.8 s per run in
 * test/e2e/incidents-*.e2e.test.ts (in-process server, shared 2-core machine); `chatstorm run
 * --quick`, which also starts the server in a child process, took 3–7 s more here.
 */
import { defineExpectations, defineQuick, defineScenario } from 'chatstorm';

export default defineScenario({
  name: 'flaky-reconnect',
  seed: 8600,
  duration: '60s',
  grace: '20s',
  networks: {
    customers: { toxics: [{ type: 'latency', attributes: { latency: 120, jitter: 40 } }] },
    agents: { toxics: [{ type: 'latency', attributes: { latency: 30, jitter: 10 } }] },
  },
  population: {
    agents: { count: 8, devices: ['desktop', 'mobile'], network: 'agents', maxConcurrent: 10 },
    customers: { count: 120, devices: ['mobile', 'web'], network: 'customers' },
  },
  traffic: {
    arrival: { model: 'constant', over: '40s' },
    messagesPerCustomer: { min: 4, max: 10 },
    thinkTime: { min: '500ms', max: '2s' },
    agentReplyProbability: 0.85,
    burst: { probability: 0.3, size: { min: 2, max: 4 }, gap: { min: '50ms', max: '300ms' } },
    mix: { text: 0.75, emoji: 0.2, 'long-text': 0.05 },
    multiDevice: { switchProbability: 0.1, readOnOtherDevice: 0.2 },
    readAfter: '1s',
    history: { who: 'all', onReconnect: true, pageSize: 50, pages: 2 },
  },
  faults: [
    { action: 'kill-after-send', at: '8s', network: 'customers', count: 6 },
    // The customers' link resets every connection 300 ms after it opens, for 2 s.
    { action: 'toxic', at: '15s', duration: '2s', network: 'customers', toxic: { type: 'reset_peer', attributes: { timeout: 300 } } },
    // The agents' link goes silent; connections are closed after 1.5 s of silence.
    { action: 'toxic', at: '25s', duration: '3s', network: 'agents', toxic: { type: 'timeout', attributes: { timeout: 1500 } } },
    { action: 'outage', at: '35s', duration: '2s', network: 'agents' },
    { action: 'kill', at: '45s', network: 'customers', share: 0.5 },
    { action: 'kill-after-send', at: '50s', network: 'agents', count: 4 },
  ],
  sla: ['loss == 0', 'duplicates == 0', 'reconnect.p99 < 10s', 'delivery.p99 < 15s'],
});

/** 30 % of the population: every fault still hits several devices in the quick window. */
export const quick = defineQuick({ duration: '8s', population: 0.3 });

export const expectations = defineExpectations({
  verdict: 'pass',
  defect: { name: 'no-dedup', rate: 1, check: 'duplicates' },
});
