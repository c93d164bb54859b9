/**
 * The drain waits, up to the grace period, for deliveries still owed. A customer behind a
 * 3 s downstream latency gets the agent's reply (sent 3 s after the customer's message, so the
 * customer's own ack has arrived by then) 3 s after every send was acknowledged and long after
 * the last delivery: ending the drain there (what it did when only acks and 1 s of quiet counted)
 * reported the reply as lost, although the grace period would see it arrive.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runScenario } from '../../src/cli/run-command.ts';
import { defineScenario } from '../../src/scenario/index.ts';
import { startReferenceServer, type ReferenceServer } from '../../src/server/index.ts';
import type { HistoryEvent } from '../../src/history/events.ts';

const LATENCY_MS = 3000;

const slowReply = defineScenario({
  name: 'slow-reply',
  seed: 3,
  duration: '4s',
  grace: '10s',
  networks: {
    agents: {},
    // Only what the server sends to the customer is slow (its ack, then the reply): by the time
    // the agent replies, every send but the reply is acknowledged, and the agent's ack is fast.
    customers: { toxics: [{ type: 'latency', stream: 'downstream', attributes: { latency: LATENCY_MS } }] },
  },
  population: {
    agents: { count: 1, devices: ['desktop'], network: 'agents' },
    customers: { count: 1, devices: ['mobile'], network: 'customers' },
  },
  traffic: {
    arrival: { model: 'constant', over: '100ms' },
    messagesPerCustomer: { min: 1, max: 1 },
    thinkTime: { min: '3s', max: '3200ms' },
    agentReplyProbability: 1,
    // No read is scheduled within the run: a planned read keeps the play step going.
    readAfter: '60s',
  },
  sla: ['loss == 0'],
});

describe('drain', () => {
  let server: ReferenceServer;
  let out: string;
  beforeEach(async () => {
    server = await startReferenceServer({ port: 0, store: 'memory' });
    out = await mkdtemp(join(tmpdir(), 'chatstorm-drain-'));
  });
  afterEach(async () => {
    await server.close();
    await rm(out, { recursive: true, force: true });
  });

  it('waits for a delivery still owed after every ack and more than 1 s of quiet, so it is not reported lost', async () => {
    // It judges loss, not delays: harness lag is allowed and marked.
    const r = await runScenario({ scenario: slowReply, target: server.url, toxiproxy: 'embedded', out, allowHarnessLag: true });
    const events = (await readFile(join(r.dir, 'history.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as HistoryEvent);
    const agent = events.find((e) => e.type === 'send' && e.device.startsWith('a'));
    expect(agent, 'the agent replied').toBeDefined();
    const key = (agent as Extract<HistoryEvent, { type: 'send' }>).key;
    const ack = events.find((e) => e.type === 'ack' && e.key === key)!;
    const reply = events.find((e) => e.type === 'deliver' && e.key === key);
    // The situation the test is about: the reply arrived more than 1 s after its ack and after
    // the delivery before it, and the drain had nothing else to wait for.
    expect(reply, 'the reply reached the customer within the grace period').toBeDefined();
    const before = events.filter((e) => e.type === 'deliver' && e.atMs < reply!.atMs).map((e) => e.atMs);
    expect(reply!.atMs - ack.atMs).toBeGreaterThan(1000);
    expect(reply!.atMs - Math.max(ack.atMs, ...before)).toBeGreaterThan(1000);
    expect(r.summary.checks.loss?.status).toBe('pass');
    expect(r.exitCode).toBe(0);
  }, 60_000);
});
