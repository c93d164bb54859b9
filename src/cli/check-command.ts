/**
 * `chatstorm check <run-dir>`: re-judge a saved run from its history file, print the same verdict
 * as the live run and rewrite the same reports in the run folder (the SLA list comes from the
 * run's summary.json, or its plan.json when the run crashed before writing a summary).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createJudge, exitCodeOf } from '../check/index.ts';
import { forEachHistoryEvent } from '../history/reader.ts';
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
  if (existsSync(join(dir, REPORT_FILES.summary))) saved = JSON.parse(await readFile(join(dir, REPORT_FILES.summary), 'utf8')) as Summary;
  let slaExprs = saved.sla?.map((s) => s.expr);
  if (!slaExprs && existsSync(join(dir, REPORT_FILES.plan))) {
    slaExprs = (JSON.parse(await readFile(join(dir, REPORT_FILES.plan), 'utf8')) as { sla?: string[] }).sla;
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
