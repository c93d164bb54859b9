import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mergeShards, mergeChecks, SHARD_FILES, type ShardManifest, type MergedSummary } from '../../src/merge/index.ts';
import { summarize } from '../../src/cli/summarize.ts';
import { mergeSlas } from '../../src/cli/run-command.ts';
import { LatencyHistogram } from '../../src/stats/hdr.ts';
import { UsageError } from '../../src/errors.ts';
import { REPORT_FILES } from '../../src/report/write.ts';
import type { CheckResult } from '../../src/check/index.ts';

const pass = (name: string, metrics: Record<string, number> = {}): CheckResult => ({ name, status: 'pass', count: 0, witnesses: [], metrics });
const baseChecks = (): Record<string, CheckResult> => ({
  loss: pass('loss', { messages: 10, acked: 10 }),
  duplicates: pass('duplicates'),
  ordering: pass('ordering'),
});

interface ShardFixture {
  index: number;
  count?: number;
  hash?: string;
  checks?: Record<string, CheckResult>;
  deliveryMs?: number[];
  /** Write no summary.json (a crash). */
  crashed?: boolean;
  endReason?: string;
  error?: string | null;
  overloaded?: string | null;
  /** Run-level harness lag p50 / p99 of the shard, ms (sender lag; the loop's delay 0). */
  lagMs?: [number, number];
  allowHarnessLag?: boolean;
}

function lagFigures([p50, p99]: [number, number]) {
  const s = (a: number, b: number) => ({ count: 100, minMs: 0, meanMs: a, p50Ms: a, p90Ms: b, p95Ms: b, p99Ms: b, p999Ms: b, maxMs: b });
  return { senderLag: s(p50, p99), eventLoopDelay: s(0, 0), combined: s(p50, p99) };
}

async function writeShard(root: string, f: ShardFixture): Promise<string> {
  const count = f.count ?? 2;
  const runId = `r-s${f.index}of${count}`;
  const dir = join(root, runId);
  await mkdir(dir, { recursive: true });
  const manifest: ShardManifest = {
    schema: 1, runId, scenario: 'small', seed: 7, index: f.index, count, wholePlanHash: f.hash ?? 'h1', wholeAccounts: 30, accounts: 15, devices: 30, sends: 40,
  };
  await writeFile(join(dir, SHARD_FILES.manifest), JSON.stringify(manifest));
  if (f.crashed) return dir;
  const delivery = new LatencyHistogram();
  for (const ms of f.deliveryMs ?? [10]) delivery.recordMs(ms);
  const second = new LatencyHistogram({ digits: 1, lowestUs: 100 });
  for (const ms of f.deliveryMs ?? [10]) second.recordMs(ms);
  const checks = f.checks ?? baseChecks();
  const summary = summarize({
    verdict: { checks, metrics: { delivery: delivery.summary() } },
    slas: mergeSlas(['loss == 0', 'delivery.p99 < 500ms'], []),
    infraError: f.error ?? null,
    run: { runId, scenario: 'small', seed: 7, startedAt: `2026-01-01T00:00:0${f.index}.000Z`, endReason: f.endReason ?? 'complete' },
    harness: { worstEventLoopP99Ms: 5 * f.index, worstSenderLagP99Ms: 1, senderLagMaxMs: 2, overloaded: f.overloaded ?? null, events: 100, ...(f.lagMs ? { lag: lagFigures(f.lagMs) } : {}) },
    allowHarnessLag: f.allowHarnessLag ?? false,
    target: 'ws://127.0.0.1:1',
    toxiproxy: null,
    faults: [],
  });
  await writeFile(join(dir, REPORT_FILES.summary), JSON.stringify(summary));
  await writeFile(join(dir, SHARD_FILES.histograms), JSON.stringify({ schema: 1, metrics: { delivery: delivery.encode() }, perSecond: { '1': second.encode() } }));
  return dir;
}

describe('mergeShards', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'chatstorm-merge-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('merges latency from the encoded histograms, not from the shards percentiles', async () => {
    // Shard 1: 990 fast deliveries; shard 2: 10 slow ones. The true p99 of all 1,000 is fast
    // (the 990th value); the slow shard's own p99 is 900 ms, and any mix of the two p99s is wrong.
    const fast = Array.from({ length: 990 }, (_, i) => 10 + (i % 10));
    const slow = Array.from({ length: 10 }, () => 900);
    await writeShard(root, { index: 1, deliveryMs: fast });
    await writeShard(root, { index: 2, deliveryMs: slow });
    const r = await mergeShards({ dirs: [root] });
    const all = new LatencyHistogram();
    for (const ms of [...fast, ...slow]) all.recordMs(ms);
    expect(r.summary.metrics['delivery']).toEqual(all.summary());
    expect(r.summary.metrics['delivery']?.p99Ms).toBeLessThan(20);
    expect(r.summary.verdict).toBe('pass');
    expect(r.exitCode).toBe(0);
    // The chart is merged the same way, second by second.
    const saved = JSON.parse(await readFile(join(r.dir, SHARD_FILES.histograms), 'utf8'));
    expect(LatencyHistogram.decode(saved.perSecond['1']).count).toBe(1000);
    expect(r.dir).toBe(join(root, 'r-merged'));
    expect(existsSync(join(r.dir, REPORT_FILES.html))).toBe(true);
  });

  it('weighs the worst shard\'s run-level harness lag against the merged delays', async () => {
    await writeShard(root, { index: 1, deliveryMs: [100], lagMs: [1, 2] });
    await writeShard(root, { index: 2, deliveryMs: [100], lagMs: [1, 4] });
    const r = await mergeShards({ dirs: [root] });
    expect(r.summary.harness?.lag?.combined.p99Ms).toBe(4);
    expect(r.summary.harnessLag).toMatchObject({ p99Ms: 4, material: false });
    expect(r.summary.verdict).toBe('pass');
  });

  it('allows a merged run material harness lag only when every shard allowed it', async () => {
    // Each shard's own figures were weighed by itself; the merge weighs the worst lag again.
    await writeShard(root, { index: 1, deliveryMs: [100], lagMs: [1, 2], allowHarnessLag: true });
    await writeShard(root, { index: 2, deliveryMs: [100], lagMs: [1, 60], allowHarnessLag: true });
    const allowed = await mergeShards({ dirs: [root] });
    expect(allowed.summary.harnessLag).toMatchObject({ p99Ms: 60, material: true, allowed: true });
    expect(allowed.summary.verdict).toBe('pass');
    await rm(join(root, 'r-s1of2'), { recursive: true });
    await rm(join(root, 'r-merged'), { recursive: true });
    // Shard 1 did not allow it (its own lag was small: it passed): the merged lag is an error.
    await writeShard(root, { index: 1, deliveryMs: [100], lagMs: [1, 2] });
    const refused = await mergeShards({ dirs: [root] });
    expect(refused.summary.shards.map((s) => s.verdict)).toEqual(['pass', 'pass']);
    expect(refused.summary.harnessLag).toMatchObject({ p99Ms: 60, material: true, allowed: false });
    expect(refused.summary.verdict).toBe('error');
    expect(refused.exitCode).toBe(3);
    expect(refused.summary.error).toMatch(/the harness's own lag is a material part/);
  });

  it('sums anomaly counts, keeps witnesses per shard, and fails once', async () => {
    const lost = (n: number, who: string): CheckResult => ({
      name: 'loss', status: 'fail', count: n, metrics: { messages: 10, longestGapMs: n * 100 },
      witnesses: [{ summary: `${who} never got it`, key: `${who}#1`, trail: [] }],
    });
    await writeShard(root, { index: 1, checks: { ...baseChecks(), loss: lost(2, 'c1') } });
    await writeShard(root, { index: 2, checks: { ...baseChecks(), loss: lost(3, 'c2') } });
    const r = await mergeShards({ dirs: [join(root, 'r-s1of2'), join(root, 'r-s2of2')] });
    const loss = r.summary.checks['loss'] as CheckResult;
    expect(loss.status).toBe('fail');
    expect(loss.count).toBe(5);
    expect(loss.metrics).toEqual({ messages: 20, longestGapMs: 300 });
    expect(loss.witnesses.map((w) => w.summary)).toEqual(['shard 1/2: c1 never got it', 'shard 2/2: c2 never got it']);
    expect(r.summary.verdict).toBe('fail');
    expect(r.summary.reasons).toContain('check loss failed: 5 anomalies');
    expect(r.exitCode).toBe(1);
  });

  it('makes the verdict error naming a missing shard, and never reports its messages as lost', async () => {
    await writeShard(root, { index: 1, count: 3 });
    await writeShard(root, { index: 3, count: 3 });
    const r = await mergeShards({ dirs: [root] });
    expect(r.summary.verdict).toBe('error');
    expect(r.exitCode).toBe(3);
    expect(r.summary.error).toMatch(/shard 2\/3 is missing .*not counted as lost/);
    expect(r.summary.checks['loss']?.status).toBe('pass');
    expect(r.summary.checks['loss']?.count).toBe(0);
    expect(r.summary.shards.map((s) => s.verdict)).toEqual(['pass', 'missing', 'pass']);
  });

  it('makes the verdict error naming a crashed shard (no summary)', async () => {
    await writeShard(root, { index: 1 });
    await writeShard(root, { index: 2, crashed: true });
    const r = await mergeShards({ dirs: [root] });
    expect(r.summary.verdict).toBe('error');
    expect(r.summary.error).toMatch(/shard 2\/2 \(.*r-s2of2\) crashed: no summary\.json; its 40 planned sends are not judged, not counted as lost/);
    expect((r.summary as MergedSummary).shards[1]?.verdict).toBe('crashed');
  });

  it('makes the verdict error naming an overloaded shard, and leaves its checks out', async () => {
    await writeShard(root, { index: 1 });
    await writeShard(root, {
      index: 2,
      endReason: 'harness-overloaded',
      error: 'harness overloaded: sender lag p99 1500 ms over 1000 ms',
      overloaded: 'sender lag p99 1500 ms over 1000 ms',
      checks: { ...baseChecks(), loss: { name: 'loss', status: 'fail', count: 7, witnesses: [] } },
    });
    const r = await mergeShards({ dirs: [root] });
    expect(r.summary.verdict).toBe('error');
    expect(r.summary.error).toMatch(/shard 2\/2 \(.*\) was overloaded: sender lag p99 1500 ms/);
    expect(r.summary.harness?.overloaded).toBe('shard 2/2: sender lag p99 1500 ms over 1000 ms');
    expect(r.summary.checks['loss']?.count).toBe(0);
  });

  it('refuses shards of different plans, and a shard given twice', async () => {
    await writeShard(root, { index: 1 });
    const other = await mkdtemp(join(tmpdir(), 'chatstorm-merge-other-'));
    try {
      await writeShard(other, { index: 2, hash: 'h2' });
      await expect(mergeShards({ dirs: [join(root, 'r-s1of2'), join(other, 'r-s2of2')] })).rejects.toThrow(/is shard 2\/2 of another plan/);
      await expect(mergeShards({ dirs: [join(root, 'r-s1of2'), join(root, 'r-s1of2')] })).rejects.toThrow(/shard 1\/2 is given twice/);
      await expect(mergeShards({ dirs: [other + '-nope'] })).rejects.toBeInstanceOf(UsageError);
      await expect(mergeShards({ dirs: [tmpdir() + '/..'] })).rejects.toThrow(/holds no shard\.json/);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });
});

describe('mergeChecks', () => {
  it('passes a check that passed in one shard and could not run in another, and says why', () => {
    const merged = mergeChecks([
      { label: '1/2', checks: { sync: { name: 'sync', status: 'pass', count: 0, witnesses: [] } } },
      { label: '2/2', checks: { sync: { name: 'sync', status: 'not-checked', count: 0, witnesses: [], note: 'no unread events in the run' } } },
    ]);
    expect(merged['sync']).toMatchObject({ status: 'pass', note: 'shard 2/2: no unread events in the run' });
  });

  it('is not checked when no shard could run it', () => {
    const nc = { name: 'integrity', status: 'not-checked' as const, count: 0, witnesses: [], note: 'no attachments in the run' };
    const merged = mergeChecks([{ label: '1/2', checks: { integrity: nc } }, { label: '2/2', checks: { integrity: nc } }]);
    expect(merged['integrity']).toMatchObject({ status: 'not-checked', note: 'no attachments in the run' });
  });
});
