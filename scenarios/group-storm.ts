/**
 * Incident: everything gets worse in busy group chats. Eight supplier groups, each with 3 agents
 * and 15 customers (every one on two devices), post 90 messages a minute each — mostly emoji and
 * short text, with images — on top of the shop's direct conversations, over a long-distance link
 * for the customers; at 50 % of the run the customers' latency doubles for 10 s.
 *
 * Gates: the `ordering` check (per-sender FIFO at every device, and every device of a group seeing
 * the group's messages in one agreed order), `isolation` (no device gets a group message it is not
 * a member of), `integrity` of the images, and fan-out delay `delivery.p99 < 3s`; nothing lost or
 * duplicated.
 *
 * Expected on the reference server: pass. With `--defect reorder --defect-rate 0.5` (the server
 * holds a message back behind the next one of the same conversation) it fails on the `ordering`
 * check.
 *
 * Full run: 60 s of traffic (measured: pass, 65 s in all with `chatstorm run`). Quick mode
 * (`--quick`): 8 s, half the population (4 groups of the same size and rate, so a group is as busy
 * as in the full run); measured 12.3 s per run in test/e2e/incidents-*.e2e.test.ts (in-process
 * server, shared 2-core machine); `chatstorm run --quick`, which also starts the server in a child
 * process, took 3–7 s more here.
 */
import { defineExpectations, defineQuick, defineScenario } from 'chatstorm';

export default defineScenario({
  name: 'group-storm',
  seed: 6400,
  duration: '60s',
  grace: '15s',
  networks: {
    customers: { toxics: [{ name: 'cust-latency', type: 'latency', attributes: { latency: 100, jitter: 30 } }] },
    agents: { toxics: [{ type: 'latency', attributes: { latency: 20, jitter: 5 } }] },
  },
  population: {
    agents: { count: 12, devices: ['desktop', 'mobile'], network: 'agents', maxConcurrent: 10 },
    customers: { count: 60, devices: ['mobile', 'web'], network: 'customers' },
    groups: { count: 8, agents: 3, customers: 15, messagesPerMinute: 90 },
  },
  traffic: {
    arrival: { model: 'constant', over: '40s' },
    messagesPerCustomer: { min: 1, max: 3 },
    thinkTime: { min: '1s', max: '3s' },
    mix: { text: 0.35, emoji: 0.5, image: 0.15 },
    sizes: { image: { min: '5KB', max: '60KB' } },
    readAfter: '1s',
  },
  faults: [
    { action: 'update-toxic', at: '30s', duration: '10s', network: 'customers', toxic: 'cust-latency', attributes: { latency: 200, jitter: 60 } },
  ],
  sla: ['loss == 0', 'duplicates == 0', 'delivery.p99 < 3s'],
});

/** Half the population: four groups as big and as busy as in the full run. */
export const quick = defineQuick({ duration: '8s', population: 0.5 });

export const expectations = defineExpectations({
  verdict: 'pass',
  defect: { name: 'reorder', rate: 0.5, check: 'ordering' },
});
