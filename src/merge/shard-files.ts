/**
 * What a shard leaves beside its reports so that a later merge needs nothing else:
 *
 *   shard.json       written before the run starts: which shard of which plan, and what it holds
 *                    (a shard that crashes still says what is missing from the merge)
 *   histograms.json  written with the reports: every latency histogram of the verdict and the
 *                    per-second delivery histograms of the chart, HDR-encoded (merged by adding
 *                    counts, never by combining percentiles)
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LatencyHistogram, type EncodedLatencyHistogram } from '../stats/hdr.ts';
import type { Plan } from '../plan/plan.ts';

/** File names of a shard folder, beside the REPORT_FILES of every run. */
export const SHARD_FILES = { manifest: 'shard.json', histograms: 'histograms.json' } as const;

/** Version of shard.json and histograms.json; later versions add fields and never rename one. */
export const SHARD_SCHEMA = 1;

/** shard.json. */
export interface ShardManifest {
  schema: number;
  runId: string;
  scenario: string;
  seed: number;
  index: number;
  count: number;
  wholePlanHash: string;
  wholeAccounts: number;
  accounts: number;
  devices: number;
  sends: number;
}

/** histograms.json. */
export interface ShardHistograms {
  schema: number;
  /** Latency metrics by name (`delivery`, `ack`, `sync`, ...). */
  metrics: Record<string, EncodedLatencyHistogram>;
  /** Delivery delay per second of arrival, keyed by the second. */
  perSecond: Record<string, EncodedLatencyHistogram>;
}

/** The manifest of a shard plan (throws for a whole plan: only shards are merged). */
export function manifestOf(plan: Plan, runId: string): ShardManifest {
  const s = plan.shard;
  if (!s) throw new Error('manifestOf: the plan is not a shard plan');
  return {
    schema: SHARD_SCHEMA,
    runId,
    scenario: plan.scenario,
    seed: plan.seed,
    index: s.index,
    count: s.count,
    wholePlanHash: s.wholePlanHash,
    wholeAccounts: s.wholeAccounts,
    accounts: plan.accounts.length,
    devices: plan.accounts.reduce((n, a) => n + a.devices.length, 0),
    sends: plan.sends.length,
  };
}

export async function writeManifest(dir: string, m: ShardManifest): Promise<void> {
  await writeFile(join(dir, SHARD_FILES.manifest), JSON.stringify(m, null, 2) + '\n');
}

/** Encode a judge's histograms (see `ChatstormJudge.histograms`). */
export function encodeHistograms(h: { metrics: ReadonlyMap<string, LatencyHistogram>; perSecond: ReadonlyMap<number, LatencyHistogram> }): ShardHistograms {
  const metrics: Record<string, EncodedLatencyHistogram> = {};
  for (const [name, hist] of h.metrics) metrics[name] = hist.encode();
  const perSecond: Record<string, EncodedLatencyHistogram> = {};
  for (const [second, hist] of h.perSecond) perSecond[String(second)] = hist.encode();
  return { schema: SHARD_SCHEMA, metrics, perSecond };
}

export async function writeHistograms(dir: string, h: ShardHistograms): Promise<void> {
  await writeFile(join(dir, SHARD_FILES.histograms), JSON.stringify(h) + '\n');
}

/** Read a JSON file of a shard folder; null when it does not exist. */
export async function readJsonIfAny<T>(dir: string, file: string): Promise<T | null> {
  let text: string;
  try {
    text = await readFile(join(dir, file), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  return JSON.parse(text) as T;
}
