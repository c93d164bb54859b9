/**
 * Incident: history that loads slowly, or with gaps, after months of use. Agents scroll back
 * through long conversations while those conversations keep growing: every account opens one of its
 * conversations every 300 ms and walks back up to 10 pages of 100 messages, and every device
 * reloads history after a reconnect; customers chat fast (30–60 messages each, 100–400 ms apart),
 * over a 150 ± 50 ms link that spikes to 1.2 s for a while, and a quarter of the customers'
 * connections drop at 60 % of the run.
 *
 * Gates: the `history` check (every page complete, contiguous, without duplicates, with the right
 * message at each seq) and page load time `history.page.p99 < 3s` (the latency spike included);
 * nothing lost.
 *
 * Expected on the reference server: pass. With `--defect history-gap --defect-rate 0.3` (the server
 * leaves a stored message out of the middle of a page) it fails on the `history` check.
 *
 * What this cannot do yet: the issue asks for conversations preloaded with hundreds of thousands of
 * messages. The scenario language has no preload field, and the reference server that `run` starts
 * by itself takes no preload, so the histories here are the ones the run writes (a few hundred
 * messages per conversation). The reference server can preload (`chatstorm serve --port 7461
 * --preload "conv=dm00001,count=300000;conv=dm00002,count=300000"`, conversation ids as the plan
 * names them: dm00001, dm00002, ...), and a run against it (`--target ws://127.0.0.1:7461`) keeps
 * that history (provisioning replaces members, not messages): measured once in quick mode, it
 * passes, loading 827 pages instead of 298 because walks back in the two preloaded
 * conversations find 10 full pages. But the
 * `history` check only expects seqs the harness saw stored (src/check/history.ts), so preloaded
 * messages are paged and timed, not judged, and 10 pages of 100 reach only the newest 1000 of them.
 * Needed: a `population.history` (or `preload`) field the runner passes to the server's admin API
 * before the run, and a way for the history check to learn the preloaded range (for example from
 * the server's preload answer).
 *
 * Full run: 60 s of traffic (measured: pass, 66 s in all with `chatstorm run`). Quick mode
 * (`--quick`): 8 s, half the population (so a conversation still gets dozens of messages to page
 * through); measured 12.1 s per run in test/e2e/incidents.e2e.test.ts (in-process server, shared
 * 2-core machine); `chatstorm run --quick`, which also starts the server in a child process, took
 * 3–7 s more here.
 */
import { defineExpectations, defineQuick, defineScenario } from 'chatstorm';

export default defineScenario({
  name: 'history-heavy',
  seed: 5300,
  duration: '60s',
  grace: '15s',
  networks: {
    customers: { toxics: [{ name: 'cust-latency', type: 'latency', attributes: { latency: 150, jitter: 50 } }] },
    agents: { toxics: [{ name: 'agent-latency', type: 'latency', attributes: { latency: 150, jitter: 50 } }] },
  },
  population: {
    agents: { count: 4, devices: ['desktop', 'mobile'], network: 'agents', maxConcurrent: 5 },
    customers: { count: 20, devices: ['mobile', 'web'], network: 'customers' },
  },
  traffic: {
    arrival: { model: 'constant', over: '10s' },
    messagesPerCustomer: { min: 30, max: 60 },
    thinkTime: { min: '100ms', max: '400ms' },
    agentReplyProbability: 0.9,
    agentReplyMessages: { min: 1, max: 2 },
    mix: { text: 0.7, emoji: 0.2, 'long-text': 0.1 },
    sizes: { 'long-text': { min: '2KB', max: '16KB' } },
    readAfter: '1s',
    history: { who: 'all', every: '300ms', pageSize: 100, pages: 10, onReconnect: true },
  },
  faults: [
    { action: 'update-toxic', at: '30s', duration: '10s', network: 'agents', toxic: 'agent-latency', attributes: { latency: 1200, jitter: 300 } },
    { action: 'kill', at: '36s', network: 'customers', share: 0.25 },
  ],
  sla: ['loss == 0', 'duplicates == 0', 'history.page.p99 < 3s'],
});

/** Half the population: fewer, but still long, conversations to page through. */
export const quick = defineQuick({ duration: '8s', population: 0.5 });

export const expectations = defineExpectations({
  verdict: 'pass',
  defect: { name: 'history-gap', rate: 0.3, check: 'history' },
});
