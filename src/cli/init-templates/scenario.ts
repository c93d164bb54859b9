/**
 * A chatstorm scenario: who talks to whom, over which networks, with which faults, and what
 * counts as a pass. Run it with `npm run chatstorm` (see package.json), or
 * `npx chatstorm run chatstorm/scenario.ts --target wss://your-chat-server/path`.
 * Every field is described in chatstorm's README ("Scenarios").
 */
import { defineScenario } from 'chatstorm';

export default defineScenario({
  name: 'smoke',
  seed: 1,
  // The driver that speaks your back end's protocol (a module path, relative to this file), or
  // 'reference' for chatstorm's own reference protocol.
  driver: './driver.ts',
  duration: '20s', // send window; then up to `grace` for stragglers
  grace: '10s',
  networks: {
    // One Toxiproxy proxy per network; devices of each population segment connect through theirs.
    customers: { toxics: [{ type: 'latency', attributes: { latency: 80, jitter: 30 } }] },
    agents: {},
  },
  population: {
    agents: { count: 3, devices: ['desktop', 'mobile'], network: 'agents' },
    customers: { count: 20, devices: ['mobile'], network: 'customers' },
  },
  traffic: {
    arrival: { model: 'constant', over: '10s' },
    messagesPerCustomer: { min: 2, max: 5 },
    thinkTime: { min: '500ms', max: '2s' },
  },
  faults: [
    // A latency spike on the customers' link half-way through.
    { action: 'toxic', at: '8s', duration: '4s', network: 'customers', toxic: { type: 'latency', attributes: { latency: 600 } } },
  ],
  sla: ['loss == 0', 'duplicates == 0', 'delivery.p99 < 3s'],
});
