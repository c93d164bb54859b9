/**
 * The demo: an evening at a small cross-border shop, 30 seconds of it. 20 agents on desktop and
 * phone, 200 customers on their phones over a long-distance link with latency and jitter, and a
 * latency spike on that link half-way through. Every account opens a conversation's history every
 * 8 s and scrolls back two pages.
 *
 * Expected on the reference server: pass. With `--defect drop-fanout --defect-rate 0.05` it fails
 * on the `loss` check. Quick mode (`--quick`): 8 s of traffic, the population scaled with the time.
 */
import { defineExpectations, defineScenario } from 'chatstorm';

export default defineScenario({
  name: 'demo',
  seed: 42,
  duration: '30s',
  grace: '10s',
  networks: {
    'eu-customers': { toxics: [{ type: 'latency', attributes: { latency: 80, jitter: 40 } }] },
    'cn-agents': { toxics: [{ type: 'latency', attributes: { latency: 20, jitter: 5 } }] },
  },
  population: {
    agents: { count: 20, devices: ['desktop', 'mobile'], network: 'cn-agents', maxConcurrent: 15 },
    customers: { count: 200, devices: ['mobile'], network: 'eu-customers' },
  },
  traffic: {
    arrival: { model: 'constant', over: '18s' },
    messagesPerCustomer: { min: 3, max: 8 },
    thinkTime: { min: '1s', max: '4s' },
    agentReplyProbability: 0.8,
    mix: { text: 0.75, emoji: 0.2, 'long-text': 0.05 },
    // Everyone scrolls back through a conversation now and then (three pages of 20), and a device
    // that lost its link catches up on its conversations' history: the history check is judged.
    history: { every: '8s', pageSize: 20, pages: 3, onReconnect: true },
  },
  faults: [
    {
      action: 'toxic',
      at: '14s',
      duration: '3s',
      network: 'eu-customers',
      toxic: { type: 'latency', attributes: { latency: 1500, jitter: 200 } },
    },
  ],
  sla: ['loss == 0', 'duplicates == 0', 'delivery.p99 < 5s', 'delivery.p50 < 1s'],
});

export const expectations = defineExpectations({
  verdict: 'pass',
  defect: { name: 'drop-fanout', rate: 0.05, check: 'loss' },
});
