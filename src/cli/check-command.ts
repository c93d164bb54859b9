/**
 * `chatstorm check <run-dir>`: re-judge a saved run from its history file, print the same verdict
 * as the live run and rewrite the same reports in the run folder (the SLA list comes from the
 * run's summary.json, or its plan.json when the run crashed before writing a summary).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createJudge, exitCodeOf } from '../check/index.ts';
import { HistoryFileError, forEachHistoryEvent } from '../history/reader.ts';
import { UsageError } from '../errors.ts';
import type { Summary } from '../report/summary.ts';
import { FaultLog } from '../report/fault-log.ts';
import { summarize } from './summarize.ts';
import { REPORT_FILES, writeReports } from '../report/write.ts';
import { mergeSlas, prepareBaseline, withBaseline } from './run-command.ts';
import { ThroughputMeter } from '../report/throughput.ts';
import { RunSeries } from '../report/run-series.ts';
import { renderMarkdown } from '../report/text.ts';
import { publishStepSummary } from '../report/step-summary.ts';

export async function checkRun(
  dir: string,
  extraSla: string[] = [],
  options: { baseline?: string; maxRegressionPct?: number } = {},
): Promise<{ summary: Summary; dir: string; exitCode: number; notes: string[] }> {
  const historyPath = join(dir, REPORT_FILES.history);
  if (!existsSync(historyPath)) {
    throw new UsageError(`${dir} has no ${REPORT_FILES.history}; pass a run folder such as reports/<run-id>`);
  }
  let saved: Partial<Summary> = {};
  if (existsSync(join(dir, REPORT_FILES.summary))) saved = await readSaved<Summary>(join(dir, REPORT_FILES.summary));
  let slaExprs = savedSlas(join(dir, REPORT_FILES.summary), saved.sla, (s) => (s as { expr?: unknown } | null)?.expr);
  if (!slaExprs && existsSync(join(dir, REPORT_FILES.plan))) {
    const planPath = join(dir, REPORT_FILES.plan);
    slaExprs = savedSlas(planPath, (await readSaved<{ sla?: unknown }>(planPath)).sla, (s) => s);
  }
  const slas = mergeSlas(slaExprs ?? [], extraSla);
  const baseline = await prepareBaseline(options);

  const judge = createJudge();
  const faults = new FaultLog();
  const throughput = new ThroughputMeter();
  const runSeries = new RunSeries();
  let runId = saved.runId ?? '';
  let scenario = saved.scenario ?? '';
  let seed = saved.seed ?? 0;
  let endReason = 'no run-end event (the run did not finish)';
  await forEachHistoryEvent(historyPath, (e) => {
    judge.step(e);
    faults.step(e);
    throughput.step(e);
    runSeries.step(e);
    if (e.type === 'run-start') ({ runId, scenario, seed } = e);
    if (e.type === 'run-end') endReason = e.reason;
  }).catch((err: unknown) => {
    // The folder is the user's input here (exit 2), not something this run failed to write (exit 3).
    throw err instanceof HistoryFileError ? new UsageError(err.message, { cause: err }) : err;
  });
  const verdict = judge.result();
  const judged = summarize({
    verdict,
    slas,
    infraError: saved.error ?? null,
    run: { runId, scenario, seed, startedAt: faults.startedAt, endReason },
    harness: saved.harness ?? null,
    target: saved.target ?? null,
    toxiproxy: saved.toxiproxy ?? null,
    faults: faults.list(),
    // The run's own choice: re-judging gives the same verdict.
    allowHarnessLag: saved.harnessLag?.allowed ?? false,
  });
  const summary = withBaseline({ ...judged, throughput: throughput.result() }, baseline);
  await writeReports(dir, summary, { delay: verdict.series ?? [], series: runSeries.result() });
  const stepNote = await publishStepSummary(renderMarkdown(summary));
  return { summary, dir, exitCode: exitCodeOf(summary.verdict), notes: stepNote === null ? [] : [stepNote] };
}

/** A run folder's saved JSON (summary.json, plan.json): unreadable or malformed is bad input (exit 2) naming the file. */
async function readSaved<T>(path: string): Promise<T> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); pass a run folder written by \`chatstorm run\``, { cause: err });
  }
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object');
    return value as T;
  } catch (err) {
    throw new UsageError(`${path} is not the JSON object \`chatstorm run\` writes (${(err as Error).message}); restore it, or delete it to re-judge from history.jsonl alone`, { cause: err });
  }
}

/** The SLA expressions a saved file holds (`sla`: summary.json's objects with `expr`, plan.json's strings), or exit 2 naming the field. */
function savedSlas(path: string, list: unknown, exprOf: (item: unknown) => unknown): string[] | undefined {
  if (list === undefined) return undefined;
  const exprs = Array.isArray(list) ? list.map(exprOf) : null;
  if (exprs === null || exprs.some((e) => typeof e !== 'string')) {
    throw new UsageError(`${path}: "sla" is not the list \`chatstorm run\` writes; restore the file, or delete it and pass the SLAs with --sla`);
  }
  return exprs as string[];
}
