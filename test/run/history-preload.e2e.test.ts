/**
 * Preloaded history through the whole harness: the driver creates it at set-up, before any
 * device connects, the sweep pages through all of it during play, and the history check judges
 * the range (every preloaded message shown, the right one at each seq).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runScenario } from '../../src/cli/run-command.ts';
import type { HistoryEvent, PageEvent, PreloadEvent } from '../../src/history/events.ts';
import { startReferenceServer, type ReferenceServer } from '../../src/server/index.ts';

const scenario = {
  name: 'preload-e2e',
  seed: 3,
  duration: '3s',
  grace: '5s',
  networks: { n: { toxics: [{ type: 'latency', attributes: { latency: 20 } }] } },
  population: { agents: { count: 1, devices: ['desktop', 'mobile'], network: 'n' }, customers: { count: 3, network: 'n' } },
  traffic: {
    arrival: { model: 'constant', over: '1s' },
    messagesPerCustomer: { min: 2, max: 3 },
    thinkTime: { min: '200ms', max: '400ms' },
    history: { every: '1s', pageSize: 20, pages: 2, preload: { conversations: 2, messages: 5000, bodyBytes: 32 }, sweep: { at: '500ms', readers: 3, pageSize: 200 } },
  },
  sla: ['history.preloaded.page.p99 < 10s'],
};

describe('preloaded history (end to end)', () => {
  let server: ReferenceServer;
  let out: string;
  beforeEach(async () => {
    server = await startReferenceServer({ port: 0, store: 'sqlite' });
    out = await mkdtemp(join(tmpdir(), 'chatstorm-preload-'));
  });
  afterEach(async () => {
    await server.close();
    await rm(out, { recursive: true, force: true });
  });

  it('preloads at set-up before any device connects, sweeps the whole range, and the history check judges it', async () => {
    const r = await runScenario({ scenario, target: server.url, toxiproxy: 'embedded', out, allowHarnessLag: true });
    expect(r.summary.reasons).toEqual([]);
    expect(r.summary.verdict).toBe('pass');
    const history = r.summary.checks.history!;
    expect(history.status).toBe('pass');
    expect(history.metrics).toMatchObject({ preloadedConversations: 2, preloadedMessages: 10_000, preloadedUnshown: 0 });
    expect(history.note).toMatch(/^10000 messages preloaded into 2 conversations in \d+\.\d s, every one shown in a page$/);

    const events = (await readFile(join(r.dir, 'history.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as HistoryEvent);
    const preloads = events.filter((e): e is PreloadEvent => e.type === 'preload');
    expect(preloads.map((p) => [p.count, p.first, p.last, p.keyDevice === `preload-${p.conv}`, p.swept])).toEqual([
      [5000, 1, 5000, true, true],
      [5000, 1, 5000, true, true],
    ]);
    // Recorded with the population, before the first connection attempt; timed.
    const firstConnect = events.findIndex((e) => e.type === 'connect');
    for (const p of preloads) {
      expect(events.indexOf(p)).toBeLessThan(firstConnect);
      expect(p.tookMs).toBeGreaterThan(0);
    }
    // The server holds them: a device's first page of a preloaded conversation shows preloaded keys.
    const pages = events.filter((e): e is PageEvent => e.type === 'page');
    const sweep = pages.filter((p) => p.after !== undefined);
    expect(sweep.length).toBeGreaterThanOrEqual(2 * Math.ceil(5000 / 200));
    expect(sweep.every((p) => p.device.startsWith('a0001.'))).toBe(true);
    const first = sweep.find((p) => p.after === 0)!;
    expect(first.keys.slice(0, 2)).toEqual([`preload-${first.conv}#1`, `preload-${first.conv}#2`]);
    expect(r.summary.metrics['history.preloaded.page']?.count).toBe(pages.filter((p) => p.seqs.some((s) => s <= 5000) && preloads.some((x) => x.conv === p.conv)).length);
  }, 60_000);

  it('reports a sweep the end of the run cut: sweep-cut events, and history not-checked rather than the unreached seqs missing', async () => {
    // Every page crosses a 1 s latency toxic: 100 pages of one walk cannot end within a 2 s send
    // window and 2 s of grace, whatever the machine's speed.
    const slow = {
      ...scenario,
      name: 'preload-cut',
      duration: '2s',
      grace: '2s',
      networks: { n: { toxics: [{ type: 'latency', attributes: { latency: 1000 } }] } },
      traffic: { ...scenario.traffic, history: { ...scenario.traffic.history, preload: { conversations: 1, messages: 5000, bodyBytes: 32 }, sweep: { at: '0s', readers: 1, pageSize: 50 } } },
      sla: [],
    };
    const r = await runScenario({ scenario: slow, target: server.url, toxiproxy: 'embedded', out, allowHarnessLag: true });
    const history = r.summary.checks.history!;
    expect(history.status).toBe('not-checked');
    expect(history.note).toMatch(/preloaded messages of \S+ were not reached: the sweep was still paging when the run ended \(sweep-cut\)/);
    expect(history.metrics?.preloadedUnshown).toBeGreaterThan(0);
    const events = (await readFile(join(r.dir, 'history.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as HistoryEvent);
    const cuts = events.filter((e) => e.type === 'sweep-cut');
    expect(cuts.length).toBeGreaterThan(0);
    for (const c of cuts) expect(c).toMatchObject({ loaded: expect.any(Number), pages: expect.any(Number) });
    // Cut before run-end, and the walk had not loaded all its pages.
    expect(events.indexOf(cuts[0]!)).toBeLessThan(events.findIndex((e) => e.type === 'run-end'));
  }, 60_000);
});
