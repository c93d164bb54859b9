/**
 * Scale wiring, end to end: the runner spreads networks over as many embedded proxy processes as
 * the open-file limit needs, and a load that cannot fit is refused before anything starts —
 * exit 3 with the limit and the fix — shown with small limits instead of 10,000 real devices.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPlan } from '../../src/run/runner.ts';
import { buildPlan } from '../../src/plan/plan.ts';
import { validateScenario } from '../../src/scenario/validate.ts';
import { startReferenceServer, type ReferenceServer } from '../../src/server/index.ts';
import type { HistoryEvent } from '../../src/history/events.ts';
import type { Summary } from '../../src/report/summary.ts';
import { expectValidSummary } from '../report/summary-schema.ts';
import small from '../fixtures/small.ts';

const BIN = new URL('../../bin/chatstorm.js', import.meta.url).pathname;
/** test/fixtures/small.ts: 24 customer devices on `customers`, 6 agent devices on `agents`. */
const plan = buildPlan(validateScenario({ ...small, duration: '1500ms', grace: '3s', faults: [] }));

describe('embedded proxy processes and the open-file limit (end to end)', () => {
  let server: ReferenceServer;
  let out: string;
  beforeAll(async () => {
    server = await startReferenceServer({ port: 0, store: 'memory' });
    out = await mkdtemp(join(tmpdir(), 'chatstorm-scale-'));
  });
  afterAll(async () => {
    await server.close();
    await rm(out, { recursive: true, force: true });
  });

  it('puts each network on its own proxy process when one process may not hold both, and the run delivers', async () => {
    // 72 files: (72 − 20) / 2 = 26 connections per proxy process; 24 + 6 devices need two.
    const events: HistoryEvent[] = [];
    // Unbatched listeners here, so what they had seen when play began is exact.
    const atPlay: { sends: number; connected: number }[] = [];
    const r = await runPlan({
      plan,
      target: server.url,
      toxiproxy: 'embedded',
      fileLimit: 72,
      listenerBatchMs: 0,
      listeners: [(e) => events.push(e)],
      onPlay: () => atPlay.push({ sends: events.filter((e) => e.type === 'send').length, connected: events.filter((e) => e.type === 'connected').length }),
    });
    expect(atPlay).toEqual([{ sends: 0, connected: plan.accounts.reduce((n, a) => n + a.devices.length, 0) }]);
    expect(r.infraError).toBeNull();
    expect(r.endReason).toBe('complete');
    expect(r.proxyProcesses).toBe(2);
    const acks = events.filter((e) => e.type === 'ack').length;
    expect(acks).toBe(plan.sends.length);
    expect(events.filter((e) => e.type === 'deliver').length).toBeGreaterThan(0);
  }, 30_000);

  it('refuses a network too large for one proxy process before anything starts', async () => {
    const events: HistoryEvent[] = [];
    const r = await runPlan({ plan, target: server.url, toxiproxy: 'embedded', fileLimit: 60, listeners: [(e) => events.push(e)] });
    expect(r.infraError).toMatch(/^network customers has 24 devices, but one proxy process holds at most 20 connections under the open-file limit of 60/);
    expect(r.endReason).toBe('error');
    expect(r.proxyProcesses).toBe(0);
    expect(events).toEqual([]);
  });

  it('exits 3 with the limit and how to raise it when `ulimit -n` is too low for the scenario', async () => {
    const dir = join(out, 'ulimit');
    // test/fixtures/crowded.ts: 200 devices on one network, 140 per proxy process under 300 files.
    const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn('sh', ['-c', `ulimit -n 300 && exec "${process.execPath}" "${BIN}" run test/fixtures/crowded.ts --out "${dir}" --quiet`], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, TOXIPROXY_URL: '' },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.on('exit', (code) => {
        clearTimeout(t);
        resolve({ code, stdout, stderr });
      });
    });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout).toContain('network customers has 200 devices, but one proxy process holds at most 140 connections under the open-file limit of 300');
    expect(r.stdout).toContain('ulimit -n 65536');
    const [run] = await readdir(dir);
    const summary = JSON.parse(await readFile(join(dir, run as string, 'summary.json'), 'utf8')) as Summary;
    expectValidSummary(summary);
    expect(summary.verdict).toBe('error');
    expect(summary.harness?.events).toBe(0);
  }, 40_000);
});
