/**
 * Peak hour at a cross-border shop, two minutes of it: agents in China on desktop and phone,
 * customers in Europe and the US on their phones and laptops, group chats with suppliers, text,
 * emoji, images, files and multi-attachment bursts. Arrivals ramp up to the evening peak; then the
 * European link's bandwidth collapses over a minute (the incident of 20:00: expect delays of tens of
 * seconds behind large attachments), a few phones drop
 * right after sending, one mid-upload, a third of the US connections reconnect at once, and the
 * agents' network is out for three seconds.
 *
 *   npx chatstorm run scenarios/peak-hour.ts
 *
 * Expected on the reference server: pass. With `--defect corrupt-attachment --defect-rate 0.5` it
 * fails on the `integrity` check. Quick mode (`--quick`): 8 s of traffic, the population scaled
 * with the time (2 agents, 30 customers, 1 group), every fault at its scaled time.
 */
import { defineExpectations, defineScenario } from 'chatstorm';

export default defineScenario({
  name: 'peak-hour',
  seed: 2000,
  duration: '2m',
  grace: '45s',
  networks: {
    'eu-customers': {
      toxics: [
        { name: 'eu-latency', type: 'latency', attributes: { latency: 120, jitter: 40 } },
        { name: 'eu-link', type: 'bandwidth', attributes: { rate: 4000 } },
      ],
    },
    'us-customers': { toxics: [{ name: 'us-latency', type: 'latency', attributes: { latency: 90, jitter: 30 } }] },
    'cn-agents': { toxics: [{ type: 'latency', attributes: { latency: 20, jitter: 5 } }] },
  },
  population: {
    agents: { count: 30, devices: ['desktop', 'mobile'], network: 'cn-agents', maxConcurrent: 8 },
    customers: [
      { name: 'eu', count: 300, devices: ['mobile', 'web'], network: 'eu-customers' },
      { name: 'us', count: 150, devices: ['mobile', 'desktop'], network: 'us-customers' },
    ],
    groups: { count: 8, agents: 2, customers: 4, messagesPerMinute: 4 },
  },
  traffic: {
    arrival: {
      model: 'ramping',
      startRatePerSec: 1,
      stages: [
        { duration: '30s', targetPerSec: 8 },
        { duration: '40s', targetPerSec: 8 },
        { duration: '30s', targetPerSec: 2 },
      ],
    },
    messagesPerCustomer: { min: 3, max: 8 },
    thinkTime: { min: '2s', max: '8s' },
    agentReplyProbability: 0.85,
    agentReplyMessages: { min: 1, max: 2 },
    burst: { probability: 0.25, size: { min: 2, max: 4 }, gap: { min: '300ms', max: '1.5s' } },
    wrapUp: '5s',
    mix: { text: 0.67, emoji: 0.15, 'long-text': 0.04, image: 0.09, file: 0.03, 'multi-attachment': 0.02 },
    sizes: { image: { min: '30KB', max: '1MB' }, file: { min: '100KB', max: '5MB' } },
    multiAttachment: { images: { min: 2, max: 4 }, files: { min: 1, max: 1 } },
    multiDevice: { switchProbability: 0.1, readOnOtherDevice: 0.2 },
    readAfter: '3s',
    // Agents scroll back through conversations, and every device reloads after a reconnect.
    history: { who: 'all', every: '20s', onReconnect: true, pageSize: 50, pages: 3 },
  },
  faults: [
    { action: 'kill-after-send', at: '25s', network: 'eu-customers', count: 5 },
    { action: 'kill-during-upload', at: '30s', network: 'us-customers' },
    // 20:00: the European link collapses from 4 MB/s to 200 KB/s per connection over a minute, then recovers.
    { action: 'ramp', at: '40s', duration: '1m', network: 'eu-customers', toxic: 'eu-link', attribute: 'rate', from: 4000, to: 200, steps: 12, hold: '10s' },
    { action: 'update-toxic', at: '50s', duration: '20s', network: 'eu-customers', toxic: 'eu-latency', attributes: { latency: 600, jitter: 300 } },
    { action: 'kill', at: '75s', network: 'us-customers', share: 0.3 },
    { action: 'outage', at: '100s', duration: '3s', network: 'cn-agents' },
  ],
  sla: ['loss == 0', 'duplicates == 0', 'delivery.p99 < 30s', 'delivery.p50 < 2s'],
});

export const expectations = defineExpectations({
  verdict: 'pass',
  defect: { name: 'corrupt-attachment', rate: 0.5, check: 'integrity' },
});
