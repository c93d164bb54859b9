/**
 * `chatstorm run`: scenario -> plan -> runner (history streamed to disk, judged live) -> SLA gate
 * -> reports. Also the library entry point (`runScenario`), with the same options as the CLI.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadScenario } from '../scenario/load.ts';
import { validateScenario } from '../scenario/validate.ts';
import type { Scenario } from '../scenario/schema.ts';
import { buildPlan, type Plan } from '../plan/plan.ts';
import { createJudge, parseSla, type Sla, type Verdict } from '../check/index.ts';
import { HistoryWriter } from '../history/writer.ts';
import { guardListener } from '../history/guard.ts';
import { runPlan, makeRunId, type Progress } from '../run/runner.ts';
import type { Driver } from '../drivers/driver.ts';
import { exitCodeOf, type Summary } from '../report/summary.ts';
import { FaultLog } from '../report/fault-log.ts';
import { summarize } from './summarize.ts';
import { writeReports, REPORT_FILES } from '../report/write.ts';
import { DelaySeries } from '../report/series.ts';
import { renderConsole } from '../report/text.ts';
import type { HistoryEvent } from '../history/events.ts';

export interface RunScenarioOptions {
  /** Path of a scenario file, or an already-written scenario object. */
  scenario: string | unknown;
  target?: string;
  toxiproxy?: string;
  seed?: number;
  /** Overrides the scenario's duration (send window), ms. */
  durationMs?: number;
  /** Parent folder of run folders, default `reports`. */
  out?: string;
  /** SLA expressions; each replaces a scenario SLA on the same metric and statistic, or is added. */
  sla?: string[];
  /** Defect modes for the built-in reference server (only without `target`). */
  defects?: string[];
  /** Share of opportunities where a defect fires (built-in server only; its default is 0.02). */
  defectRate?: number;
  /** Harness self-limits. */
  maxEventLoopMs?: number;
  maxSenderLagMs?: number;
  driver?: Driver;
  runId?: string;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
}

export interface RunScenarioResult {
  summary: Summary;
  dir: string;
  exitCode: number;
}

/** Merge CLI SLAs over the scenario's: same metric and statistic replaces, others add. */
export function mergeSlas(fromScenario: readonly string[], fromCli: readonly string[]): Sla[] {
  const parsed = fromScenario.map(parseSla);
  for (const expr of fromCli) {
    const s = parseSla(expr);
    const i = parsed.findIndex((p) => p.metric === s.metric && p.stat === s.stat);
    if (i >= 0) parsed[i] = s;
    else parsed.push(s);
  }
  return parsed;
}

/** Validate everything that can be wrong before anything starts (exit 2 on failure). */
export async function prepare(o: RunScenarioOptions): Promise<{ scenario: Scenario; plan: Plan; slas: Sla[] }> {
  let scenario = typeof o.scenario === 'string' ? (await loadScenario(o.scenario)).scenario : validateScenario(o.scenario);
  if (o.durationMs !== undefined) {
    scenario = validateScenario({ ...scenario, duration: o.durationMs, faults: scenario.faults.filter((f) => f.at <= o.durationMs!) });
  }
  const slas = mergeSlas(scenario.sla, o.sla ?? []);
  const plan = buildPlan(scenario, o.seed);
  return { scenario, plan, slas };
}

export async function runScenario(o: RunScenarioOptions): Promise<RunScenarioResult> {
  const { plan, slas } = await prepare(o);
  const runId = o.runId ?? makeRunId(plan.scenario);
  const dir = resolve(o.out ?? 'reports', runId);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, REPORT_FILES.plan), JSON.stringify(plan) + '\n');

  const writer = new HistoryWriter(join(dir, REPORT_FILES.history));
  const judge = createJudge();
  const series = new DelaySeries();
  const faults = new FaultLog();
  const broken: string[] = [];
  const guard = (name: string, fn: (e: HistoryEvent) => void) => guardListener(name, fn, (m) => broken.push(m));
  const outcome = await runPlan({
    plan,
    runId,
    target: o.target,
    toxiproxy: o.toxiproxy,
    driver: o.driver,
    listeners: [
      guard('the history writer', writer.write),
      guard('the live judge', (e) => judge.step(e)),
      guard('the delay series', series.step),
      guard('the fault log', faults.step),
    ],
    selfMonitor: { maxEventLoopMs: o.maxEventLoopMs, maxSenderLagMs: o.maxSenderLagMs },
    serverArgs: [
      ...(o.defects ?? []).flatMap((d) => ['--defect', d]),
      ...(o.defectRate === undefined ? [] : ['--defect-rate', String(o.defectRate)]),
    ],
    signal: o.signal,
    onProgress: o.onProgress,
  });
  let infraError = outcome.infraError;
  try {
    await writer.close();
  } catch (err) {
    infraError ??= `could not write the history file: ${(err as Error).message}`;
  }
  if (broken.length > 0) {
    infraError ??= `${broken.join('; ')} (the history file has every event; re-judge with \`chatstorm check ${dir}\`)`;
  }
  let verdict: Verdict;
  try {
    verdict = judge.result();
  } catch (err) {
    infraError ??= `the judge failed: ${err instanceof Error ? err.message : String(err)}`;
    verdict = { checks: {}, metrics: {} };
  }
  const summary = summarize({
    verdict,
    slas,
    infraError,
    run: { runId, scenario: plan.scenario, seed: plan.seed, startedAt: faults.startedAt, endReason: outcome.endReason },
    harness: { ...outcome.self, events: outcome.events },
    target: outcome.target || null,
    toxiproxy: outcome.toxiproxy,
    faults: faults.list(),
  });
  await writeReports(dir, summary, series.points());
  return { summary, dir, exitCode: exitCodeOf(summary.verdict) };
}

/** Console rendering plus where the files are. */
export function describeResult(r: RunScenarioResult): string {
  return `${renderConsole(r.summary)}\n\nreports: ${r.dir}`;
}
