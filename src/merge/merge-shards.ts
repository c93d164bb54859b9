/**
 * `chatstorm merge`: the shard folders of one plan into one report, one verdict, one exit code.
 *
 *   shard folders --shard.json--> which shard of which plan (all of one plan, none twice)
 *        |         --summary.json + histograms.json--> parts
 *        v
 *   missing shard, crashed shard (no summary), failed or overloaded shard --> error (exit 3),
 *        |   naming the shard; its messages are left out, never reported as lost
 *        v
 *   merged verdict (merge-verdict.ts) --SLAs, gate (summarize)--> reports in the merged folder
 */
import { readdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.ts';
import { summarize } from '../cli/summarize.ts';
import { mergeSlas } from '../cli/run-command.ts';
import { exitCodeOf, type Summary } from '../report/summary.ts';
import { REPORT_FILES, writeReports } from '../report/write.ts';
import { SHARD_FILES, readJsonIfAny, writeHistograms, type ShardHistograms, type ShardManifest } from './shard-files.ts';
import { mergeVerdicts, type ShardPart } from './merge-verdict.ts';
import type { HarnessLagFigures } from '../run/self-monitor.ts';

/** How one shard fared, as the merged summary lists it. */
export interface ShardStatus {
  shard: string;
  dir: string | null;
  runId: string | null;
  /** The shard's own verdict; `missing` when no folder holds it, `crashed` when it wrote no summary. */
  verdict: Summary['verdict'] | 'missing' | 'crashed';
  endReason: string | null;
  error: string | null;
  accounts: number | null;
  sends: number | null;
  /** Whether its checks and histograms are in the merged verdict. */
  merged: boolean;
}

/** summary.json of a merged run: a run summary plus the list of its shards. */
export type MergedSummary = Summary & { shards: ShardStatus[] };

export interface MergeOptions {
  /** Shard folders, or folders holding shard folders (e.g. the shared volume of an Indexed Job). */
  dirs: string[];
  /** Folder of the merged report (default: `<run id>-merged` beside the first shard). */
  out?: string;
  /** SLA expressions over the scenario's, as `run --sla`. */
  sla?: string[];
  /** What the caller saw go wrong with a shard (a worker's exit and stderr), by shard index. */
  failures?: ReadonlyMap<number, string>;
  /** Run id of the merged run (default: the shards' run id without `-s<i>of<n>`, plus `-merged`). */
  runId?: string;
  /** Errors of the run as a whole (the `--workers` parent's own), listed first. */
  errors?: readonly string[];
}

export interface MergeResult {
  summary: MergedSummary;
  dir: string;
  exitCode: number;
}

interface Found {
  dir: string;
  manifest: ShardManifest;
}

/** Merge the shards found in `o.dirs`; bad usage (no shards, shards of different plans) throws UsageError. */
export async function mergeShards(o: MergeOptions): Promise<MergeResult> {
  const found = await findShards(o.dirs);
  const first = found[0] as Found;
  const { count, wholePlanHash } = first.manifest;
  const byIndex = new Map<number, Found>();
  for (const f of found) {
    const m = f.manifest;
    if (m.wholePlanHash !== wholePlanHash || m.count !== count) {
      throw new UsageError(
        `${f.dir} is shard ${m.index}/${m.count} of another plan than ${first.dir} (shard ${first.manifest.index}/${count}): ` +
          'merge the shards of one run (same scenario, seed, duration and shard count)',
      );
    }
    const twice = byIndex.get(m.index);
    if (twice) throw new UsageError(`shard ${m.index}/${count} is given twice: ${twice.dir} and ${f.dir}; pass each shard folder once`);
    byIndex.set(m.index, f);
  }

  const errors: string[] = [...(o.errors ?? [])];
  const statuses: ShardStatus[] = [];
  const parts: ShardPart[] = [];
  const summaries: Summary[] = [];
  /** `i/n` of each of `summaries`. */
  const labels: string[] = [];
  for (let i = 1; i <= count; i++) {
    const label = `${i}/${count}`;
    const f = byIndex.get(i);
    const failure = o.failures?.get(i);
    if (!f) {
      errors.push(`shard ${label} is missing${failure ? ` (${failure})` : ' (no folder given holds it)'}: its messages are not judged, not counted as lost`);
      statuses.push({ shard: label, dir: null, runId: null, verdict: 'missing', endReason: null, error: failure ?? null, accounts: null, sends: null, merged: false });
      continue;
    }
    const base = { shard: label, dir: f.dir, runId: f.manifest.runId, accounts: f.manifest.accounts, sends: f.manifest.sends };
    const summary = await readJsonIfAny<Summary>(f.dir, REPORT_FILES.summary);
    if (!summary) {
      errors.push(`shard ${label} (${f.dir}) crashed: no ${REPORT_FILES.summary}${failure ? ` (${failure})` : ''}; its ${f.manifest.sends} planned sends are not judged, not counted as lost`);
      statuses.push({ ...base, verdict: 'crashed', endReason: null, error: failure ?? null, merged: false });
      continue;
    }
    summaries.push(summary);
    labels.push(label);
    const status: ShardStatus = { ...base, verdict: summary.verdict, endReason: summary.endReason, error: summary.error, merged: false };
    statuses.push(status);
    if (summary.verdict === 'error' || failure) {
      const overloaded = summary.harness?.overloaded ?? (summary.endReason === 'harness-overloaded' ? summary.error : null);
      const why = overloaded ? `was overloaded: ${overloaded}` : `failed: ${summary.error ?? summary.reasons.join('; ')}`;
      errors.push(`shard ${label} (${f.dir}) ${summary.verdict !== 'error' ? `failed: ${failure}` : `${why}${failure ? ` (${failure})` : ''}`}; its messages are not judged`);
      continue;
    }
    const histograms = await readJsonIfAny<ShardHistograms>(f.dir, SHARD_FILES.histograms);
    if (!histograms) {
      errors.push(`shard ${label} (${f.dir}) has no ${SHARD_FILES.histograms}: its latencies cannot be merged without loss`);
      continue;
    }
    parts.push({ label, checks: summary.checks, histograms });
    status.merged = true;
  }

  const { verdict, histograms } = mergeVerdicts(parts);
  const model = summaries[0];
  const slas = mergeSlas(model?.sla.map((s) => s.expr) ?? [], o.sla ?? []);
  const runId = o.runId ?? `${first.manifest.runId.replace(/-s\d+of\d+$/, '')}-merged`;
  const started = summaries.map((s) => s.startedAt).filter((s): s is string => s !== null).sort();
  const overloaded = summaries.flatMap((s, k) => (s.harness?.overloaded ? [`shard ${labels[k]}: ${s.harness.overloaded}`] : []));
  const harness = summaries.some((s) => s.harness)
    ? {
        worstEventLoopP99Ms: Math.max(0, ...summaries.map((s) => s.harness?.worstEventLoopP99Ms ?? 0)),
        worstSenderLagP99Ms: Math.max(0, ...summaries.map((s) => s.harness?.worstSenderLagP99Ms ?? 0)),
        senderLagMaxMs: Math.max(0, ...summaries.map((s) => s.harness?.senderLagMaxMs ?? 0)),
        overloaded: overloaded.length > 0 ? overloaded.join('; ') : null,
        events: summaries.reduce((n, s) => n + (s.harness?.events ?? 0), 0),
        // Run-level lag is not additive across processes: the worst shard's, weighed by the gate
        // against the merged delays like a single run's (docs/honesty.md).
        lag: worstLag(summaries),
      }
    : null;
  const summary = summarize({
    verdict,
    slas,
    infraError: errors.length > 0 ? errors.join('; ') : null,
    run: {
      runId,
      scenario: first.manifest.scenario,
      seed: first.manifest.seed,
      startedAt: started[0] ?? null,
      endReason: errors.length > 0 ? 'shard-failed' : 'complete',
    },
    harness,
    target: model?.target ?? null,
    toxiproxy: model?.toxiproxy ?? null,
    // One fault timeline, played by every shard: the first shard's record of it.
    faults: model?.faults ?? [],
    // Allowed only when every shard allowed it (shards run apart may differ in their flags).
    allowHarnessLag: summaries.length > 0 && summaries.every((s) => s.harnessLag?.allowed === true),
  });
  const merged: MergedSummary = { ...summary, shards: statuses };
  const dir = resolve(o.out ?? join(dirname(first.dir), runId));
  await writeReports(dir, merged, { delay: verdict.series ?? [], series: null });
  await writeHistograms(dir, histograms);
  return { summary: merged, dir, exitCode: exitCodeOf(merged.verdict) };
}

/** The run-level harness lag of the shard that lagged most at p99, or null when none measured it. */
function worstLag(summaries: readonly Summary[]): HarnessLagFigures | null {
  let worst: HarnessLagFigures | null = null;
  for (const s of summaries) {
    const lag = s.harness?.lag;
    if (lag && (worst === null || p99(lag) > p99(worst))) worst = lag;
  }
  return worst;
}

function p99(lag: HarnessLagFigures): number {
  // Summaries written before `combined` existed carry only its two parts.
  return lag.combined?.p99Ms ?? lag.senderLag.p99Ms + lag.eventLoopDelay.p99Ms;
}

/** Shard folders among `dirs`: each a shard folder, or a folder whose sub-folders are. */
async function findShards(dirs: readonly string[]): Promise<Found[]> {
  if (dirs.length === 0) throw new UsageError('name the shard folders to merge, e.g. `chatstorm merge reports/run-s1of2 reports/run-s2of2`');
  const out: Found[] = [];
  for (const d of dirs) {
    const dir = resolve(d);
    const isDir = await stat(dir).then((s) => s.isDirectory(), () => false);
    if (!isDir) throw new UsageError(`${d} is not a folder; pass shard folders written by \`chatstorm run --shard i/n\``);
    const m = await readJsonIfAny<ShardManifest>(dir, SHARD_FILES.manifest);
    if (m) {
      out.push({ dir, manifest: m });
      continue;
    }
    const inside: Found[] = [];
    for (const name of (await readdir(dir)).sort()) {
      const sub = join(dir, name);
      if (!(await stat(sub).then((s) => s.isDirectory(), () => false))) continue;
      const sm = await readJsonIfAny<ShardManifest>(sub, SHARD_FILES.manifest);
      if (sm) inside.push({ dir: sub, manifest: sm });
    }
    if (inside.length === 0) {
      throw new UsageError(`${d} holds no ${SHARD_FILES.manifest} (nor do its sub-folders): pass shard folders written by \`chatstorm run --shard i/n\``);
    }
    out.push(...inside);
  }
  return out;
}
