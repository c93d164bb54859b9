/**
 * Incident: a busy agent account hits the platform's rate limit. One key-account agent (desktop and
 * phone, one account) handles up to 40 customers at once and answers each turn with one to three
 * messages, about 60 messages a second at the peak: more than the server's per-account limit (the
 * reference server's default token bucket, 50 sends a second with a burst of 100). Refused sends
 * must come back as explicit `nack rate-limited` with a retry time, be retried, and arrive — late,
 * never silently lost.
 *
 * Gates: `loss == 0` (a refused send the client gave up on, or one the server dropped, is a loss
 * once acknowledged, and a final refusal is counted as failed, never as delivered), `duplicates ==
 * 0` (a retry is not stored twice), ordering of the retried replies, and `delivery.p99 < 30s` (the
 * retries drain). The CI test also asserts the run shows `rate-limited` nacks (the `nacks` field of
 * the expectations below): without them the scenario would not be testing the limit at all.
 *
 * Expected on the reference server: pass. With `--defect drop-fanout --defect-rate 0.05` it fails
 * on the `loss` check. (No defect mode of the reference server mishandles the limit itself, e.g. by
 * acknowledging and then dropping a refused send; `drop-fanout` is the nearest: acknowledged
 * messages that never reach a recipient.)
 *
 * What the scenario language cannot say: the server's limit. It is the reference server's default
 * (or whatever the server under test enforces); `chatstorm serve --rate-limit N` sets another for a
 * run with `--target`.
 *
 * Full run: 60 s of traffic (measured: pass, 65 s in all with `chatstorm run`). Quick mode
 * (`--quick`): 8 s, a fifth of the customers (the agent still reaches 40 conversations at once, so
 * it still sends well over 50 a second; measured: about 3000 `rate-limited` nacks, all retried,
 * none lost); measured 13.2 s per run in test/e2e/incidents-*.e2e.test.ts (in-process server, shared
 * 2-core machine); `chatstorm run --quick`, which also starts the server in a child process, took
 * 3–7 s more here.
 */
import { defineExpectations, defineQuick, defineScenario } from 'chatstorm';

export default defineScenario({
  name: 'rate-limited-account',
  seed: 7500,
  duration: '60s',
  grace: '30s',
  networks: {
    customers: { toxics: [{ type: 'latency', attributes: { latency: 80, jitter: 20 } }] },
    agents: { toxics: [{ type: 'latency', attributes: { latency: 20, jitter: 5 } }] },
  },
  population: {
    agents: { count: 1, devices: ['desktop', 'mobile'], network: 'agents', maxConcurrent: 40 },
    customers: { count: 200, devices: ['mobile'], network: 'customers' },
  },
  traffic: {
    arrival: { model: 'constant', over: '40s' },
    messagesPerCustomer: { min: 4, max: 8 },
    thinkTime: { min: '300ms', max: '800ms' },
    agentReplyProbability: 1,
    agentReplyMessages: { min: 1, max: 3 },
    mix: { text: 0.8, emoji: 0.2 },
    readAfter: '1s',
  },
  sla: ['loss == 0', 'duplicates == 0', 'delivery.p99 < 30s'],
});

/** A fifth of the customers: the agent still fills its 40 slots within the quick window. */
export const quick = defineQuick({ duration: '8s', population: 0.2 });

export const expectations = defineExpectations({
  verdict: 'pass',
  defect: { name: 'drop-fanout', rate: 0.05, check: 'loss' },
  nacks: ['rate-limited'],
});
