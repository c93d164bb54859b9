/**
 * The driver interface is not shaped around the reference protocol: a scenario runs through a
 * different back end (tiny chat: no client ids, keys in the body via the harness marker) and
 * passes, with the same runner, checkers and gate.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runScenario } from '../../src/cli/run-command.ts';
import { startTinyChat, tinyChatDriver, type TinyChat } from './json-chat.ts';

const scenario = {
  name: 'tiny',
  seed: 11,
  duration: '3s',
  grace: '4s',
  networks: { wan: { toxics: [{ type: 'latency', attributes: { latency: 15, jitter: 5 } }] }, lan: {} },
  population: {
    agents: { count: 2, devices: ['desktop', 'mobile'], network: 'lan', maxConcurrent: 4 },
    customers: { count: 5, devices: ['mobile', 'web'], network: 'wan' },
    groups: { count: 1, agents: 1, customers: 2, messagesPerMinute: 60 },
  },
  traffic: {
    arrival: { model: 'constant', over: '1s' },
    messagesPerCustomer: { min: 2, max: 4 },
    thinkTime: { min: '100ms', max: '400ms' },
    mix: { text: 0.8, emoji: 0.2 },
    readAfter: '200ms',
  },
  sla: ['loss == 0', 'duplicates == 0'],
};

describe('a second driver (tiny chat, JSON over ws without client ids)', () => {
  let chat: TinyChat;
  let out: string;
  beforeEach(async () => {
    chat = await startTinyChat();
    out = await mkdtemp(join(tmpdir(), 'chatstorm-tiny-'));
  });
  afterEach(async () => {
    await chat.close();
    await rm(out, { recursive: true, force: true });
  });

  it('runs a scenario end to end through the embedded proxy and passes every message check', async () => {
    const r = await runScenario({ scenario, driver: tinyChatDriver, target: chat.url, toxiproxy: 'embedded', out });
    expect(r.summary.error).toBeNull();
    expect(r.summary.reasons).toEqual([]);
    expect(r.summary.verdict).toBe('pass');
    expect(r.exitCode).toBe(0);
    for (const name of ['loss', 'duplicates', 'ordering', 'isolation']) expect(r.summary.checks[name]?.status).toBe('pass');
    expect(r.summary.metrics.delivery?.count).toBeGreaterThan(20);
    // Every planned message reached the back end exactly once: it has no dedup to hide a resend.
    expect(chat.posts()).toBe(r.summary.metrics.ack?.count);
  }, 60_000);
});
