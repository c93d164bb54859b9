import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { prepare } from '../../src/cli/run-command.ts';
import type { Driver, PreloadHistoryRequest } from '../../src/drivers/driver.ts';
import { referenceDriver } from '../../src/drivers/reference.ts';
import { ExitCode, HarnessError, InvalidScenarioError, exitCodeFor } from '../../src/errors.ts';
import type { PlannedPreload } from '../../src/plan/plan.ts';
import { preloadHistories } from '../../src/run/history-preload.ts';

const planned = (conv: string, messages: number): PlannedPreload => ({ conv, messages, bodyBytes: 64, spanDays: 90, keyDevice: `preload-${conv}`, swept: true });
const setting = (signal = new AbortController().signal) => ({ context: { ctx: 1 }, runId: 'r1', url: 'ws://127.0.0.1:9', signal });

/** A driver whose preloadHistory records its calls and answers `answer(request)`. */
function preloading(answer: (p: PreloadHistoryRequest) => { first: number; last: number }): { driver: Driver; calls: PreloadHistoryRequest[] } {
  const calls: PreloadHistoryRequest[] = [];
  const driver: Driver = {
    ...(referenceDriver as unknown as Driver),
    name: 'fake',
    preloadHistory: async (p) => {
      calls.push(p);
      return answer(p);
    },
  };
  return { driver, calls };
}

describe('preloadHistories (set-up)', () => {
  it('asks the driver for each planned conversation in turn and returns where each range is, timed', async () => {
    let next = 1;
    const { driver, calls } = preloading((p) => {
      const first = next;
      next += p.messages;
      return { first, last: next - 1 };
    });
    const done = await preloadHistories(driver, [planned('dm00002', 300), planned('dm00005', 20)], setting());
    expect(calls.map((c) => [c.conv, c.messages, c.keyDevice, c.bodyBytes, c.spanDays, c.runId])).toEqual([
      ['dm00002', 300, 'preload-dm00002', 64, 90, 'r1'],
      ['dm00005', 20, 'preload-dm00005', 64, 90, 'r1'],
    ]);
    expect(calls[0]!.context).toEqual({ ctx: 1 });
    expect(done.map(({ tookMs: _t, ...d }) => d)).toEqual([
      { type: 'preload', conv: 'dm00002', count: 300, first: 1, last: 300, keyDevice: 'preload-dm00002', swept: true },
      { type: 'preload', conv: 'dm00005', count: 20, first: 301, last: 320, keyDevice: 'preload-dm00005', swept: true },
    ]);
    for (const d of done) expect(d.tookMs).toBeGreaterThanOrEqual(0);
  });

  it('does nothing without planned preloads, whatever the driver', async () => {
    const { preloadHistory: _, ...without } = referenceDriver as unknown as Driver;
    expect(await preloadHistories(without as Driver, [], setting())).toEqual([]);
  });

  it('refuses a plan that preloads for a driver without preloadHistory (exit 2, naming the field)', async () => {
    const { preloadHistory: _, ...without } = referenceDriver as unknown as Driver;
    const err = await preloadHistories({ ...without, name: 'plain' } as Driver, [planned('dm00001', 5)], setting()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidScenarioError);
    expect((err as InvalidScenarioError).issues.map((i) => i.path)).toEqual(['traffic.history.preload']);
    expect((err as InvalidScenarioError).issues[0]!.message).toMatch(/^driver plain cannot preload history/);
    expect(exitCodeFor(err)).toBe(ExitCode.usage);
  });

  it('fails the run (the harness side) when the driver answers a range that does not hold the messages asked for', async () => {
    const { driver } = preloading(() => ({ first: 1, last: 10 }));
    const err = await preloadHistories(driver, [planned('dm00001', 5)], setting()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HarnessError);
    expect((err as HarnessError).code).toBe('CHATSTORM_ERR_HARNESS');
    expect((err as HarnessError).message).toBe('driver fake preloaded dm00001 at positions 1..10, expected 5 dense positions');
  });

  it('stops between conversations once the run is halted', async () => {
    const halt = new AbortController();
    const { driver, calls } = preloading((p) => {
      halt.abort();
      return { first: 1, last: p.messages };
    });
    const done = await preloadHistories(driver, [planned('dm00001', 5), planned('dm00002', 5)], setting(halt.signal));
    expect(calls).toHaveLength(1);
    expect(done).toHaveLength(1);
  });
});

describe('run: a scenario that preloads, with a driver that cannot', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'chatstorm-preload-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is refused before anything starts (exit 2), naming traffic.history.preload', async () => {
    await writeFile(
      join(dir, 'pages.mjs'),
      "export default { contract: 2, name: 'pages-only', capabilities: { ordering: 'number', serverIds: 'global', kinds: ['text', 'emoji', 'long-text'], attachments: false, " +
        'historyPages: true, unreadCounts: false, readMarkers: false, groups: true, clientIds: true, resumption: false }, ' +
        "limits: { maxBodyBytes: 65536, maxAttachmentBytes: 0, maxAttachmentsPerMessage: 0 }, async provision() {}, async connect() { throw new Error('not here'); } };\n",
    );
    const scenario = {
      name: 'deep',
      duration: '1s',
      networks: { n: {} },
      population: { agents: { count: 1, network: 'n' }, customers: { count: 1, network: 'n' } },
      traffic: { history: { preload: { messages: 1000 } } },
    };
    const err = await prepare({ scenario, driver: join(dir, 'pages.mjs'), target: 'ws://127.0.0.1:9' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidScenarioError);
    expect((err as InvalidScenarioError).issues).toEqual([
      { path: 'traffic.history.preload', message: 'driver pages-only cannot preload history (it has no `preloadHistory` method); remove traffic.history.preload, or use a driver that has it (the reference driver does)' },
    ]);
    expect(exitCodeFor(err)).toBe(ExitCode.usage);
    // The reference driver can.
    expect((await prepare({ scenario })).driver).toBe(referenceDriver);
  });
});
