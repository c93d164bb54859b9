/**
 * Incident: multi-attachment messages arriving partly or out of order. Customers send several
 * images and a document at once (a multi-attachment message: 2–4 images and a PDF), often two or
 * three such messages in quick succession, over a long-distance link that slices the stream into
 * small segments with gaps, caps bandwidth at 600 KB/s per connection each way, and (at 20 s) drops
 * a few phones in the middle of an upload.
 *
 * Gates: every message arrives (`loss == 0`), once (`duplicates == 0`), in order (the `ordering`
 * check: per-sender FIFO and agreement between devices), and every attachment byte-identical (the
 * `integrity` check: each recipient downloads every attachment and compares its sha256); images and
 * documents arrive within `delivery[image].p99 < 15s` / `delivery[file].p99 < 15s`.
 *
 * Expected on the reference server: pass. With `--defect corrupt-attachment --defect-rate 0.3` it
 * fails on the `integrity` check (a downloaded attachment with a flipped byte).
 *
 * Packet loss on the link is the embedded proxy's `loss` toxic (an extension, docs/proxy.md): a
 * real Toxiproxy refuses this scenario before anything starts.
 *
 * Full run: 90 s of traffic (measured: pass, 98 s in all with `chatstorm run`). Quick mode
 * (`--quick`): 8 s, 15 % of the population (so arrivals come 1.75x as fast as in the full run:
 * enough multi-attachment messages to judge in 8 s; each connection's own traffic is unchanged);
 * measured 15.4 s per run in test/e2e/incidents-*.e2e.test.ts (in-process server, shared 2-core
 * machine); `chatstorm run --quick`, which also starts the server in a child process, took 3–7 s
 * more here.
 */
import { defineExpectations, defineQuick, defineScenario } from 'chatstorm';

export default defineScenario({
  name: 'attachment-burst',
  seed: 3100,
  duration: '90s',
  grace: '30s',
  networks: {
    'eu-customers': {
      toxics: [
        { type: 'latency', attributes: { latency: 150, jitter: 50 } },
        { name: 'down-slices', type: 'slicer', stream: 'downstream', attributes: { average_size: 1400, size_variation: 600, delay: 500 } },
        { name: 'up-slices', type: 'slicer', stream: 'upstream', attributes: { average_size: 1400, size_variation: 600, delay: 500 } },
        { name: 'down-rate', type: 'bandwidth', stream: 'downstream', attributes: { rate: 600 } },
        { name: 'up-rate', type: 'bandwidth', stream: 'upstream', attributes: { rate: 600 } },
        // Packet loss, 1 % of segments each way: each loss stalls the stream behind it.
        { name: 'down-loss', type: 'loss', stream: 'downstream', attributes: { probability_ppm: 10000 } },
        { name: 'up-loss', type: 'loss', stream: 'upstream', attributes: { probability_ppm: 10000 } },
      ],
    },
    'cn-agents': { toxics: [{ type: 'latency', attributes: { latency: 20, jitter: 5 } }] },
  },
  population: {
    agents: { count: 6, devices: ['desktop', 'mobile'], network: 'cn-agents', maxConcurrent: 10 },
    customers: { count: 90, devices: ['mobile'], network: 'eu-customers' },
  },
  traffic: {
    arrival: { model: 'constant', over: '60s' },
    messagesPerCustomer: { min: 2, max: 4 },
    thinkTime: { min: '1s', max: '3s' },
    agentReplyProbability: 0.7,
    // Two or three multi-attachment messages in quick succession, one turn in two.
    burst: { probability: 0.5, size: { min: 2, max: 3 }, gap: { min: '50ms', max: '300ms' } },
    mix: { text: 0.3, emoji: 0.1, 'multi-attachment': 0.45, image: 0.1, file: 0.05 },
    sizes: { image: { min: '20KB', max: '250KB' }, file: { min: '50KB', max: '600KB' } },
    multiAttachment: { images: { min: 2, max: 4 }, files: { min: 1, max: 1 } },
    downloadAttachments: true,
    readAfter: '2s',
  },
  faults: [
    // Phones dropping in the middle of an upload: the message must arrive whole or not at all.
    { action: 'kill-during-upload', at: '20s', network: 'eu-customers', count: 3 },
  ],
  sla: ['loss == 0', 'duplicates == 0', 'delivery[image].p99 < 15s', 'delivery[file].p99 < 15s'],
});

/** 15 % of the population rather than the time factor's 9 %: enough multi-attachment messages to judge in 8 s. */
export const quick = defineQuick({ duration: '8s', population: 0.15 });

export const expectations = defineExpectations({
  verdict: 'pass',
  defect: { name: 'corrupt-attachment', rate: 0.3, check: 'integrity' },
});
