/**
 * A run halted during setup ends promptly: an overload the self-monitor sees while devices are
 * connecting ends it with the monitor's message before any send, and an abort stops devices still
 * connecting instead of waiting for the connect deadline. Real sockets on 127.0.0.1, port 0.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runPlan } from '../../src/run/runner.ts';
import { buildPlan } from '../../src/plan/plan.ts';
import { validateScenario } from '../../src/scenario/validate.ts';
import { referenceDriver } from '../../src/drivers/reference.ts';
import type { Driver } from '../../src/drivers/driver.ts';
import type { HistoryEvent } from '../../src/history/events.ts';
import { startTinyChat, tinyChatDriver, type TinyChat } from '../drivers/json-chat.ts';

const plan = (customers: number, duration: string) =>
  buildPlan(
    validateScenario({
      name: 'halt',
      duration,
      grace: '1s',
      networks: { lan: {} },
      population: { agents: { count: 1, devices: ['desktop'], network: 'lan', maxConcurrent: 50 }, customers: { count: customers, devices: ['mobile'], network: 'lan' } },
      traffic: { arrival: { model: 'constant', over: '1s' }, messagesPerCustomer: { min: 20, max: 20 }, thinkTime: { min: '100ms', max: '200ms' }, mix: { text: 1 } },
    }),
  );

/** Every connect blocks the event loop for `ms` once it is live: the harness is the bottleneck while connecting. */
function blockingConnect(inner: Driver, ms: number): Driver {
  return {
    ...inner,
    name: `${inner.name}+blocking-connect`,
    provision: (...a) => inner.provision(...a),
    async connect(opts) {
      const conn = await inner.connect(opts);
      const until = performance.now() + ms;
      while (performance.now() < until) {
        // burn
      }
      return conn;
    },
  };
}

describe('runner halted during setup', () => {
  let chat: TinyChat | null = null;
  let hung: Server | null = null;
  const upgrades: Socket[] = [];
  beforeEach(() => {
    chat = null;
    hung = null;
  });
  afterEach(async () => {
    await chat?.close();
    if (hung) {
      for (const s of upgrades.splice(0)) s.destroy();
      hung.closeAllConnections();
      await new Promise<void>((r) => hung?.close(() => r()));
    }
  });

  it('ends with the self-monitor message, before any send, when the harness is overloaded while connecting', async () => {
    chat = await startTinyChat();
    const events: HistoryEvent[] = [];
    const t0 = performance.now();
    // 40 devices x 150 ms of blocking, 4 at a time: about 1.5 s of connecting with the loop blocked.
    const outcome = await runPlan({
      plan: plan(39, '60s'),
      driver: blockingConnect(tinyChatDriver() as Driver, 150),
      target: chat.url,
      toxiproxy: 'embedded',
      connectConcurrency: 4,
      // One bad window suffices: the first 150 ms block is always seen (later ones can fall between windows).
      selfMonitor: { windowMs: 100, strikes: 1, maxEventLoopMs: 50 },
      listeners: [(e) => events.push(e)],
    });
    const tookMs = performance.now() - t0;
    expect(outcome.end).toMatchObject({ kind: 'overloaded' });
    expect(outcome.endReason).toBe('harness-overloaded');
    expect(outcome.infraError).toMatch(/^the harness was the bottleneck for 0\.1 s: event-loop delay p99/);
    expect(outcome.self.overloaded).toBe(outcome.infraError);
    expect(events.filter((e) => e.type === 'send')).toHaveLength(0);
    expect(events.find((e) => e.type === 'run-end')).toMatchObject({ reason: 'harness-overloaded' });
    // The send window is 60 s; ending within 20 s (generous: setup takes a few) shows it was not played.
    expect(tookMs).toBeLessThan(20_000);
  }, 90_000);

  it('stops devices still connecting when aborted, without waiting for the connect deadline', async () => {
    // Provisioning answers; WebSocket upgrades are accepted and never answered.
    hung = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    });
    hung.on('upgrade', (_req, socket: Socket) => upgrades.push(socket));
    await new Promise<void>((r) => hung?.listen(0, '127.0.0.1', r));
    const target = `ws://127.0.0.1:${(hung.address() as AddressInfo).port}`;
    const ac = new AbortController();
    let abortedAt = 0;
    const outcome = await runPlan({
      plan: plan(5, '10s'),
      driver: referenceDriver,
      target,
      toxiproxy: 'embedded',
      signal: ac.signal,
      listeners: [
        (e) => {
          if (e.type === 'connect' && abortedAt === 0) {
            abortedAt = performance.now();
            setTimeout(() => ac.abort(), 200);
          }
        },
      ],
    });
    const afterAbortMs = performance.now() - abortedAt - 200;
    // The interrupt is the run's end; the set-up step it stopped adds no error of its own.
    expect(outcome.end).toEqual({ kind: 'interrupted', step: 'set-up' });
    expect(outcome.endReason).toBe('interrupted');
    expect(outcome.infraError).toBeNull();
    // Connect attempts time out after 10 s and the deadline is 60 s; stopping them must take far less (tolerance: 5 s).
    expect(afterAbortMs).toBeLessThan(5_000);
  }, 90_000);
});
