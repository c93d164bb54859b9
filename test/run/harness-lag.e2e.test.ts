/**
 * The harness never passes a run with delays that are its own lateness: a harness whose event
 * loop is starved on purpose (this test process burns it, and the runner lives in this process)
 * against a fast server ends exit 3 naming the harness, or, when allowed, marks every figure; a
 * comfortable load still passes with the right figures; and the self-monitor is stopped before
 * `run-end`, so nothing follows the last event of a history.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runScenario } from '../../src/cli/run-command.ts';
import { runPlan } from '../../src/run/runner.ts';
import { buildPlan } from '../../src/plan/plan.ts';
import { validateScenario } from '../../src/scenario/validate.ts';
import { startReferenceServer, type ReferenceServer } from '../../src/server/index.ts';
import type { HistoryEvent } from '../../src/history/events.ts';

/** A fast, light load: 2 agents and 8 customers, 5 messages each over about 3 s. */
const scenario = (networks: Record<string, unknown>, sla: string[] = ['loss == 0', 'delivery.p99 < 5s']) => ({
  name: 'harness-lag',
  seed: 11,
  duration: '3s',
  grace: '3s',
  networks,
  population: { agents: { count: 2, devices: ['desktop'], network: 'lan', maxConcurrent: 10 }, customers: { count: 8, devices: ['mobile'], network: 'lan' } },
  traffic: { arrival: { model: 'constant', over: '500ms' }, messagesPerCustomer: { min: 5, max: 5 }, thinkTime: { min: '300ms', max: '500ms' }, mix: { text: 1 } },
  sla,
});

/**
 * Starve this process's event loop: busy for `burnMs` out of every `everyMs`. Short enough that
 * the windowed overload guard (event-loop p99 over 250 ms) never trips: only the harness-lag rule
 * can catch it.
 */
function starve(burnMs: number, everyMs: number): () => void {
  const t = setInterval(() => {
    const until = performance.now() + burnMs;
    while (performance.now() < until) {
      // burn: the harness is late for every timer and every frame in this window
    }
  }, everyMs);
  return () => clearInterval(t);
}

describe('harness lag (end to end)', () => {
  let server: ReferenceServer | null = null;
  let out: string;
  let stopStarving: (() => void) | null = null;
  beforeEach(async () => {
    out = await mkdtemp(join(tmpdir(), 'chatstorm-lag-'));
  });
  afterEach(async () => {
    stopStarving?.();
    stopStarving = null;
    await server?.close();
    server = null;
    await rm(out, { recursive: true, force: true });
  });

  it('ends exit 3 naming the harness when a starved harness measures a fast server, never pass', async () => {
    // The reference server runs in its own child process (no target): only the harness starves.
    const runs = runScenario({ scenario: scenario({ lan: {} }), toxiproxy: 'embedded', out });
    stopStarving = starve(40, 50);
    const r = await runs;
    stopStarving();
    expect(r.exitCode).toBe(3);
    expect(r.summary.verdict).toBe('error');
    // Either guard may catch it; a complete run must be caught by the harness-lag rule.
    if (r.summary.endReason === 'complete') {
      expect(r.summary.harnessLag).toMatchObject({ material: true, allowed: false, against: 'delivery' });
      expect(r.summary.error).toMatch(/^the harness's own lag is a material part of the delays it measured/);
      expect(r.summary.harnessLag?.inflated).toContain('delivery');
    } else {
      expect(r.summary.endReason).toBe('harness-overloaded');
    }
    const md = await readFile(join(r.dir, 'summary.md'), 'utf8');
    expect(md).toMatch(/harness lag \(added by chatstorm to a delivery\): p50 .* MATERIAL/);
  }, 90_000);

  it('with --allow-harness-lag keeps the verdict and marks every delay figure as inflated', async () => {
    const runs = runScenario({ scenario: scenario({ lan: {} }), toxiproxy: 'embedded', out, allowHarnessLag: true });
    stopStarving = starve(40, 50);
    const r = await runs;
    stopStarving();
    expect(r.summary.endReason).toBe('complete');
    expect(r.summary.harnessLag).toMatchObject({ material: true, allowed: true });
    expect(r.summary.harnessLag?.inflated).toEqual(expect.arrayContaining(['delivery', 'ack']));
    expect(r.summary.verdict).toBe('pass');
    expect(r.exitCode).toBe(0);
    const up = `inflated by harness lag up to ${r.summary.harnessLag!.p99Ms >= 10 ? Math.round(r.summary.harnessLag!.p99Ms) : r.summary.harnessLag!.p99Ms.toFixed(1)}ms`;
    const md = await readFile(join(r.dir, 'summary.md'), 'utf8');
    expect(md).toContain(`| delivery ⚠️ ${up} |`);
    expect(md).toContain('MATERIAL (allowed by --allow-harness-lag)');
  }, 90_000);

  it('passes a comfortable load behind a 300 ms latency toxic, with the toxic as the delay and the harness lag not material', async () => {
    const r = await runScenario({ scenario: scenario({ lan: { toxics: [{ type: 'latency', attributes: { latency: 300 } }] } }), toxiproxy: 'embedded', out });
    expect(r.summary.reasons).toEqual([]);
    expect(r.exitCode).toBe(0);
    expect(r.summary.harnessLag).toMatchObject({ material: false, against: 'delivery' });
    // The latency toxic acts downstream (Toxiproxy's default): server -> receiving device, once.
    const d = r.summary.metrics['delivery']!;
    expect(d.p50Ms).toBeGreaterThanOrEqual(300);
    expect(d.p50Ms).toBeLessThan(300 + 10 * 30); // tolerance: the loaded 2-core machine's own delays
    expect(r.summary.harnessLag!.p99Ms).toBeLessThanOrEqual(r.summary.harnessLag!.limitP99Ms);
  }, 90_000);

  it('stops the self-monitor before run-end: no lag event follows it', async () => {
    server = await startReferenceServer({ port: 0, store: 'memory' });
    const events: HistoryEvent[] = [];
    // 20 ms windows: the teardown's awaits (proxy removal, child stops) span several of them.
    const outcome = await runPlan({
      plan: buildPlan(validateScenario(scenario({ lan: {} }))),
      target: server.url,
      toxiproxy: 'embedded',
      selfMonitor: { windowMs: 20 },
      listeners: [(e) => events.push(e)],
    });
    expect(outcome.endReason).toBe('complete');
    expect(events.filter((e) => e.type === 'lag').length).toBeGreaterThan(10);
    expect(events.at(-1)?.type).toBe('run-end');
    expect(outcome.self.lag?.senderLag.count).toBe(events.filter((e) => e.type === 'send' && e.attempt === 1).length);
  }, 90_000);
});
