/**
 * The driver contract is not shaped around the reference protocol: a back end with no
 * per-conversation integers, server-assigned ids only, the sender's own message echoed back and
 * no client ids (tiny chat, keys found in the body by the harness marker) runs the same
 * scenario under faults (kills between send and ack, a reconnect storm) through the same
 * runner, checkers and gate. The checks it can support are judged; the others say `not-checked`
 * and why.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runScenario } from '../../src/cli/run-command.ts';
import { InvalidScenarioError } from '../../src/errors.ts';
import { startTinyChat, tinyChatDriver, type TinyChat } from './json-chat.ts';

const scenario = {
  name: 'tiny',
  seed: 11,
  duration: '4s',
  grace: '5s',
  networks: { wan: { toxics: [{ type: 'latency', attributes: { latency: 15, jitter: 5 } }] }, lan: {} },
  population: {
    agents: { count: 2, devices: ['desktop', 'mobile'], network: 'lan', maxConcurrent: 4 },
    customers: { count: 5, devices: ['mobile', 'web'], network: 'wan' },
    groups: { count: 1, agents: 1, customers: 2, messagesPerMinute: 60 },
  },
  traffic: {
    arrival: { model: 'constant', over: '1s' },
    messagesPerCustomer: { min: 3, max: 5 },
    thinkTime: { min: '100ms', max: '400ms' },
    mix: { text: 0.8, emoji: 0.2 },
    readAfter: '200ms',
  },
  faults: [
    { action: 'kill-after-send', at: '1s', network: 'wan', count: 4 },
    { action: 'kill', at: '2500ms', network: 'wan', share: 0.5 },
  ],
  sla: ['loss == 0'],
};

describe('a second back end that really differs (tiny chat)', () => {
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

  it('judges loss, duplicates and isolation under kills, and says which checks it cannot support and why', async () => {
    // Tiny chat runs in this process (its time is the harness's lag too) and this test judges
    // checks, not delays: material harness lag is allowed and marked (see harness-lag.e2e.test.ts).
    const r = await runScenario({ scenario, driver: tinyChatDriver(), target: chat.url, toxiproxy: 'embedded', out, allowHarnessLag: true });
    expect(r.summary.error).toBeNull();
    expect(r.summary.reasons).toEqual([]);
    expect(r.summary.verdict).toBe('pass');
    for (const name of ['loss', 'duplicates', 'isolation']) expect([name, r.summary.checks[name]?.status]).toEqual([name, 'pass']);
    expect(r.summary.checks.ordering).toMatchObject({ status: 'not-checked', note: expect.stringContaining("capabilities.ordering: 'none'") });
    expect(r.summary.checks.sync).toMatchObject({ status: 'not-checked', note: expect.stringContaining("capabilities.ordering: 'none'") });
    expect(r.summary.checks.history).toMatchObject({ status: 'not-checked', note: expect.stringContaining('capabilities.historyPages: false') });
    expect(r.summary.faults.map((f) => f.action)).toEqual(expect.arrayContaining(['kill-after-send', 'kill']));
    expect(r.summary.metrics.delivery?.count).toBeGreaterThan(20);
    // The driver's catch-up showed every killed send stored: nothing was stored twice.
    expect(chat.keysStoredTwice()).toEqual([]);
  }, 90_000);

  it('reports the duplicates a back end without dedup stores when a client resends after a kill', async () => {
    const r = await runScenario({ scenario, driver: tinyChatDriver({ dedupe: false }), target: chat.url, toxiproxy: 'embedded', out });
    const twice = chat.keysStoredTwice();
    // Kills right after a write: the back end got (nearly always all of) them before the kill.
    expect(twice.length).toBeGreaterThan(0);
    const dup = r.summary.checks.duplicates!;
    expect(dup.status).toBe('fail');
    expect(dup.count).toBe(twice.length);
    expect(r.summary.verdict).toBe('fail');
    expect(r.exitCode).toBe(1);
    // The witness shows what happened: the send, the kill, the resend, two stored copies.
    const w = dup.witnesses[0]!;
    expect(twice).toContain(w.key);
    const trail = w.trail.map((e) => `${e.type}${e.type === 'send' ? `#${e.attempt}` : ''}`);
    expect(trail).toContain('send#1');
    expect(trail).toContain('send#2');
    expect(trail).toContain('disconnect');
    expect(w.summary).toMatch(/was stored twice: p\d+ and p\d+/);
  }, 90_000);

  it('refuses, before anything starts, traffic the driver cannot carry, naming the field and the capability', async () => {
    const withImages = { ...scenario, traffic: { ...scenario.traffic, mix: { text: 1, image: 0.1 } } };
    const run = runScenario({ scenario: withImages, driver: tinyChatDriver(), target: chat.url, toxiproxy: 'embedded', out });
    await expect(run).rejects.toThrow(InvalidScenarioError);
    await expect(run).rejects.toThrow(/traffic\.mix\.image: driver tiny-chat cannot carry image messages \(capabilities\.attachments is missing\)/);
    expect(chat.posts()).toBe(0);
  });
});
