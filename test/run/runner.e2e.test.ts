/**
 * The runner plays every scenario feature against the reference server (in process) through the
 * embedded Toxiproxy: segments on their own networks, groups, bursts, device switches,
 * attachments, and each kind of fault, and the run still passes every check.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runScenario } from '../../src/cli/run-command.ts';
import { startReferenceServer, type ReferenceServer } from '../../src/server/index.ts';
import { InvalidScenarioError } from '../../src/errors.ts';
import type { HistoryEvent } from '../../src/history/events.ts';
import peakSmall from '../fixtures/peak-small.ts';

describe('runner (end to end)', () => {
  let server: ReferenceServer;
  let out: string;
  beforeEach(async () => {
    server = await startReferenceServer({ port: 0, store: 'memory' });
    out = await mkdtemp(join(tmpdir(), 'chatstorm-runner-'));
  });
  afterEach(async () => {
    await server.close();
    await rm(out, { recursive: true, force: true });
  });

  it('plays every fault kind, with start and end events, and the run passes every check including integrity', async () => {
    // The server runs in this process (its time is the harness's lag too) and this test judges
    // checks, not delays: material harness lag is allowed and marked (see harness-lag.e2e.test.ts).
    const r = await runScenario({ scenario: peakSmall, target: server.url, toxiproxy: 'embedded', out, allowHarnessLag: true });
    expect(r.summary.reasons).toEqual([]);
    expect(r.summary.verdict).toBe('pass');
    for (const name of ['loss', 'duplicates', 'ordering', 'isolation', 'sync', 'integrity']) expect(r.summary.checks[name]?.status).toBe('pass');

    const events = (await readFile(join(r.dir, 'history.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as HistoryEvent);
    const faults = events.filter((e) => e.type === 'fault');
    const started = faults.filter((e) => e.phase === 'start').map((e) => e.fault);
    const ended = faults.filter((e) => e.phase === 'end').map((e) => e.fault);
    expect(started.sort()).toEqual(['f0', 'f1', 'f2.1', 'f2.2', 'f3', 'f4', 'f5', 'f6', 'f7']);
    expect(ended.sort()).toEqual(started.sort());
    // Ramp steps are recorded as updates of the running fault.
    expect(events.filter((e) => e.type === 'fault-update' && e.fault === 'f0').length).toBe(4);
    // Each message-aware kill is a disconnect on purpose of the device it names, right after its key was written.
    for (const f of faults.filter((e) => e.phase === 'start' && (e.action === 'kill-after-send' || e.action === 'kill-during-upload'))) {
      const device = f.devices?.[0] as string;
      expect(f.key?.startsWith(device + '#')).toBe(true);
      const i = events.indexOf(f);
      expect(events.slice(0, i).some((e) => e.type === 'send' && e.key === f.key)).toBe(true);
      expect(events.some((e) => e.type === 'disconnect' && e.device === device && e.intentional && e.reason === `killed by fault ${f.fault}`)).toBe(true);
      // The killed send was written again after the reconnect, with the same key.
      expect(events.filter((e) => e.type === 'send' && e.key === f.key).map((e) => (e as { attempt: number }).attempt)).toContain(2);
    }
    const storm = faults.find((e) => e.fault === 'f4' && e.phase === 'start');
    expect(storm?.devices).toHaveLength(3);
    // Attachments: the send side records what it sent.
    expect(events.some((e) => e.type === 'send' && (e.sha256?.length ?? 0) > 1)).toBe(true);
  }, 60_000);

  it('refuses, before anything starts, a fault toxic the proxy rejects, naming faults[i].toxic', async () => {
    const scenario = {
      name: 'bad-toxic',
      duration: '2s',
      networks: { lan: {} },
      population: { agents: { count: 1, network: 'lan' }, customers: { count: 1, network: 'lan' } },
      faults: [
        { action: 'toxic', at: '1s', network: 'lan', toxic: { type: 'latency', attributes: { latency: 10 } } },
        { action: 'toxic', at: '1s', network: 'lan', toxic: { type: 'bandwidth', attributes: { rate: 0 } } },
      ],
    };
    const err = await runScenario({ scenario, target: server.url, toxiproxy: 'embedded', out }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InvalidScenarioError);
    expect((err as InvalidScenarioError).code).toBe('CHATSTORM_ERR_INVALID_SCENARIO');
    expect((err as InvalidScenarioError).issues.map((i) => i.path)).toEqual(['faults[1].toxic']);
    expect((err as InvalidScenarioError).message).toMatch(/faults\[1\]\.toxic: the proxy rejected toxic bandwidth downstream \{"rate":0\} \(.*400.*\); check each attribute/);
  }, 30_000);
});
