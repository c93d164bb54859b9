/**
 * The harness never blames the server for its own overload: when its event loop is blocked
 * (here on purpose, by a driver that burns CPU on every send) the run ends with exit 3 and says
 * the harness was the bottleneck.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runScenario } from '../../src/cli/run-command.ts';
import type { Driver } from '../../src/drivers/driver.ts';
import { startTinyChat, tinyChatDriver, type TinyChat } from '../drivers/json-chat.ts';

/** Wraps a driver so that every send blocks the event loop for `ms`. */
function blocking(inner: Driver, ms: number): Driver {
  return {
    ...inner,
    name: `${inner.name}+blocking`,
    provision: (...a) => inner.provision(...a),
    async connect(opts) {
      const conn = await inner.connect(opts);
      return {
        ...conn,
        send(m, attempt) {
          const until = performance.now() + ms;
          while (performance.now() < until) {
            // burn: the harness itself is the bottleneck
          }
          return conn.send(m, attempt);
        },
      };
    },
  };
}

describe('harness self-measurement', () => {
  let chat: TinyChat;
  let out: string;
  beforeEach(async () => {
    chat = await startTinyChat();
    out = await mkdtemp(join(tmpdir(), 'chatstorm-self-'));
  });
  afterEach(async () => {
    await chat.close();
    await rm(out, { recursive: true, force: true });
  });

  it('ends the run with exit 3 and blames the harness when its own lag exceeds the limits', async () => {
    // ~8 customers x 40 messages over 8 s, 60 ms of blocking each: far more work than time.
    const scenario = {
      name: 'overload',
      duration: '8s',
      grace: '1s',
      networks: { lan: {} },
      population: { agents: { count: 2, devices: ['desktop'], network: 'lan', maxConcurrent: 10 }, customers: { count: 8, devices: ['mobile'], network: 'lan' } },
      traffic: { arrival: { model: 'constant', over: '200ms' }, messagesPerCustomer: { min: 40, max: 40 }, thinkTime: { min: '100ms', max: '150ms' }, mix: { text: 1 } },
    };
    const r = await runScenario({
      scenario,
      driver: blocking(tinyChatDriver() as Driver, 60),
      target: chat.url,
      toxiproxy: 'embedded',
      out,
      maxEventLoopMs: 40,
      maxSenderLagMs: 100,
    });
    expect(r.exitCode).toBe(3);
    expect(r.summary.verdict).toBe('error');
    expect(r.summary.endReason).toBe('harness-overloaded');
    expect(r.summary.reasons[0]).toMatch(/^the harness was the bottleneck/);
    expect(r.summary.error).toContain('Lower the load');
    expect(r.summary.harness?.overloaded).toBe(r.summary.error);
  }, 60_000);
});
