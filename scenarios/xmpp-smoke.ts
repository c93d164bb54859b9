/**
 * XMPP smoke: a few minutes of a small support desk on a real XMPP server (Prosody or ejabberd,
 * started by scripts/xmpp/start.sh), through the embedded proxy. Two agents on desktop and phone
 * (carbons keep both in step), six customers on phone and web over a long-distance link, one
 * group room (MUC). Text, emoji and long text: the e2e test adds images and files (HTTP File
 * Upload) in a variant of its own.
 *
 *   scripts/xmpp/start.sh prosody      # prints ws://127.0.0.1:PORT/xmpp-websocket
 *   chatstorm run scenarios/xmpp-smoke.ts --driver xmpp --target ws://127.0.0.1:PORT/xmpp-websocket
 *   chatstorm run scenarios/xmpp-smoke.ts --driver xmpp --driver-option mode=naive --target ...
 *
 * This file is the clean run; the faults of the e2e tests (kills between send and ack, a kill
 * storm, latency, a short outage) are added by test/xmpp/xmpp-smoke.e2e.test.ts and described
 * in docs/findings/xmpp.md.
 */
import { defineExpectations, defineScenario } from 'chatstorm';

export default defineScenario({
  name: 'xmpp-smoke',
  seed: 14,
  duration: '5s',
  grace: '6s',
  networks: {
    wan: { toxics: [{ type: 'latency', attributes: { latency: 30, jitter: 10 } }] },
    lan: {},
  },
  population: {
    agents: { count: 2, devices: ['desktop', 'mobile'], network: 'lan', maxConcurrent: 4 },
    customers: { count: 6, devices: ['mobile', 'web'], network: 'wan' },
    groups: { count: 1, agents: 1, customers: 2, messagesPerMinute: 60 },
  },
  traffic: {
    arrival: { model: 'constant', over: '2s' },
    messagesPerCustomer: { min: 3, max: 5 },
    thinkTime: { min: '100ms', max: '400ms' },
    mix: { text: 0.7, emoji: 0.2, 'long-text': 0.1 },
  },
  faults: [],
  sla: ['loss == 0', 'duplicates == 0', 'delivery.p99 < 3s'],
});

/**
 * On the reference server (CI runs every shipped scenario there in quick mode): a pass, and
 * `drop-fanout` fails `loss`. On XMPP servers, test/xmpp/xmpp-smoke.e2e.test.ts asserts the
 * verdicts each mode earns.
 */
export const expectations = defineExpectations({
  verdict: 'pass',
  defect: { name: 'drop-fanout', rate: 0.05, check: 'loss' },
});
