import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { capacitySearch } from '../../src/cli/capacity-command.ts';
import { probeScenario } from '../../src/capacity/probe-scenario.ts';
import { validateScenario } from '../../src/scenario/index.ts';
import { startReferenceServer, type ReferenceServer } from '../../src/server/index.ts';
import throttled from './fixtures/throttled.ts';

/** The agent's per-account limit on the reference server (sends per second). */
const LIMIT = 40;
const WINDOW = { durationMs: 6000, graceMs: 3000 };

describe('capacity search on the reference server with a known throttle', () => {
  let out: string;
  let server: ReferenceServer;
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'chatstorm-capacity-'));
    // burst 10: a quarter second of the limit, so the bucket hides no real overload.
    server = await startReferenceServer({ port: 0, store: 'memory', rateLimit: { perSecond: LIMIT, burst: 10 } });
  });
  afterAll(async () => {
    await server.close();
    await rm(out, { recursive: true, force: true });
  });

  it('lands within 15 % of the limit the token bucket sets, and names the SLA that broke above it', async () => {
    // The known limit in total msg/s: the agent's LIMIT divided by its share of the sends.
    const plan = probeScenario(validateScenario(throttled), 2 * LIMIT, WINDOW).plan;
    const half = plan.sends.filter((s) => s.atMs >= WINDOW.durationMs / 2);
    const agentShare = half.filter((s) => s.account.startsWith('a')).length / half.length;
    expect(agentShare).toBeGreaterThan(0.4);
    expect(agentShare).toBeLessThan(0.6);
    const known = LIMIT / agentShare;

    const r = await capacitySearch({
      scenario: throttled,
      target: server.url,
      toxiproxy: 'embedded',
      out,
      startRate: known / 2,
      probeDurationMs: WINDOW.durationMs,
      probeGraceMs: WINDOW.graceMs,
      budgetMs: 240_000,
      // The knee here is the throttle's, judged by a 500 ms SLA; on a shared 2-core machine the
      // harness's own few ms of lag beside a 1 ms local server would otherwise end every probe.
      allowHarnessLag: true,
    });
    const a = r.report.answer;
    expect(a.kind, r.report.headline).toBe('knee');
    if (a.kind !== 'knee') return;
    expect(Math.abs(a.kneePerS - known) / known).toBeLessThanOrEqual(0.15);
    expect(a.broken.join(' ')).toContain('delivery.p99 < 500ms');
    expect(r.exitCode).toBe(0);

    // Every probe carries its figures; the lowest passed, the one that broke is above the knee.
    const probes = r.report.probes;
    expect(probes[0]).toMatchObject({ verdict: 'pass', phase: 'ramp', exitCode: 0 });
    const broke = probes.find((p) => p.targetPerS === a.brokeAtPerS);
    expect(broke).toMatchObject({ verdict: 'fail', exitCode: 1, failedSlas: ['delivery.p99 < 500ms'] });
    for (const p of probes) {
      expect(Math.abs(p.offeredPerS - p.targetPerS) / p.targetPerS).toBeLessThan(0.1);
      expect(p.deliveryP99Ms).not.toBeNull();
      expect(p.runDir).not.toBeNull();
    }

    const json = JSON.parse(await readFile(join(r.dir, 'capacity.json'), 'utf8'));
    expect(json).toMatchObject({ schema: 1, kind: 'chatstorm-capacity', exitCode: 0, answer: { kind: 'knee' } });
    expect(json.probes).toHaveLength(probes.length);
    const html = await readFile(join(r.dir, 'capacity.html'), 'utf8');
    expect(html).toContain('data-chart="capacity"');
    expect(html).toContain('uPlot');
    // Each probe left its own full run folder.
    for (const p of probes) await expect(readFile(join(p.runDir as string, 'summary.json'), 'utf8')).resolves.toContain('"verdict"');
  }, 300_000);

  it('ends with exit 3 when the server is unreachable', async () => {
    const r = await capacitySearch({
      scenario: throttled,
      target: 'ws://127.0.0.1:1',
      toxiproxy: 'embedded',
      out,
      startRate: 20,
      probeDurationMs: 1000,
      probeGraceMs: 1000,
      budgetMs: 60_000,
    });
    expect(r.exitCode).toBe(3);
    expect(r.report.answer).toMatchObject({ kind: 'aborted', cause: 'infrastructure', atLeastPerS: null });
    expect(r.report.probes).toHaveLength(1);
  }, 120_000);
});
