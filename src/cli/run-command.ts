/**
 * `chatstorm run`: scenario -> plan -> runner (history streamed to disk, judged live) -> SLA gate
 * -> reports. Also the library entry point (`runScenario`), with the same options as the CLI.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadScenario } from '../scenario/load.ts';
import { validateScenario } from '../scenario/validate.ts';
import type { Scenario } from '../scenario/schema.ts';
import { buildPlan, type Plan } from '../plan/plan.ts';
import { createJudge, exitCodeOf, parseSla, validateSlaMetric, type Sla, type Verdict } from '../check/index.ts';
import { HistoryWriter } from '../history/writer.ts';
import { guardListener } from '../history/guard.ts';
import { runPlan, makeRunId, type Progress, type RunOutcome } from '../run/runner.ts';
import { RunEndLatch, endReasonOf } from '../run/run-end.ts';
import { HarnessError, InvalidScenarioError } from '../errors.ts';
import { checkTarget } from '../net/target.ts';
import type { Driver } from '../drivers/driver.ts';
import { checkScenarioForDriver } from '../drivers/capabilities.ts';
import { referenceDriver } from '../drivers/reference.ts';
import type { Summary } from '../report/summary.ts';
import { FaultLog } from '../report/fault-log.ts';
import { summarize } from './summarize.ts';
import { writeReports, REPORT_FILES } from '../report/write.ts';
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
  /**
   * Accept a run whose own lag is a material part of its delays (see gate.ts): the verdict
   * stands and the reports mark every inflated figure, instead of ending `error` (exit 3).
   * Default false. CLI: `--allow-harness-lag`.
   */
  allowHarnessLag?: boolean;
  driver?: Driver;
  runId?: string;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
}

export interface RunScenarioResult {
  summary: Summary;
  dir: string;
  exitCode: number;
  /** Things the user should know about how options changed the scenario (printed by the CLI). */
  notes: string[];
}

/** Merge CLI SLAs over the scenario's: same metric and statistic replaces, others add. */
export function mergeSlas(fromScenario: readonly string[], fromCli: readonly string[]): Sla[] {
  const parsed = fromScenario.map(parseSla);
  for (const s of parsed) validateSlaMetric(s);
  for (const expr of fromCli) {
    const s = parseSla(expr);
    validateSlaMetric(s);
    const i = parsed.findIndex((p) => p.metric === s.metric && p.stat === s.stat);
    if (i >= 0) parsed[i] = s;
    else parsed.push(s);
  }
  return parsed;
}

/** Validate everything that can be wrong before anything starts (exit 2 on failure). */
export async function prepare(o: RunScenarioOptions): Promise<{ scenario: Scenario; plan: Plan; slas: Sla[]; notes: string[] }> {
  if (o.target !== undefined) checkTarget(o.target);
  let scenario = typeof o.scenario === 'string' ? (await loadScenario(o.scenario)).scenario : validateScenario(o.scenario);
  const notes: string[] = [];
  if (o.durationMs !== undefined) {
    const limit = o.durationMs;
    const dropped = scenario.faults.map((f, i) => ({ f, i })).filter(({ f }) => f.at > limit);
    if (dropped.length > 0) {
      notes.push(
        `--duration ${limit} ms drops ${dropped.length} fault(s) scheduled after it: ` +
          dropped.map(({ f, i }) => `faults[${i}] at ${f.at} ms on ${f.network}`).join(', ') +
          '; the remaining faults are numbered anew in this run',
      );
    }
    scenario = validateScenario({ ...scenario, duration: limit, faults: scenario.faults.filter((f) => f.at <= limit) });
  }
  const slas = mergeSlas(scenario.sla, o.sla ?? []);
  // Traffic the driver cannot carry, or sizes beyond its limits: a bad scenario for it (exit 2).
  checkScenarioForDriver(scenario, o.driver ?? referenceDriver);
  const plan = buildPlan(scenario, o.seed);
  return { scenario, plan, slas, notes };
}

export async function runScenario(o: RunScenarioOptions): Promise<RunScenarioResult> {
  const { plan, slas, notes } = await prepare(o);
  const runId = o.runId ?? makeRunId(plan.scenario);
  const dir = resolve(o.out ?? 'reports', runId);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, REPORT_FILES.plan), JSON.stringify(plan) + '\n');

  const writer = new HistoryWriter(join(dir, REPORT_FILES.history));
  const judge = createJudge();
  const faults = new FaultLog();
  // One controller ends the run: the caller's signal (Ctrl-C, a crash handler) or a broken
  // listener. The reason, when it is an Error, becomes the run's infrastructure error.
  const ac = new AbortController();
  const forward = () => ac.abort(o.signal?.reason);
  if (o.signal?.aborted) forward();
  else o.signal?.addEventListener('abort', forward, { once: true });
  const broken: string[] = [];
  const guard = (name: string, fn: (e: HistoryEvent) => void) =>
    guardListener(name, fn, (m) => {
      broken.push(m);
      ac.abort(new HarnessError(m));
    });
  let outcome: RunOutcome;
  try {
    outcome = await runPlan({
    plan,
    runId,
    target: o.target,
    toxiproxy: o.toxiproxy,
    driver: o.driver,
    listeners: [
      guard('the history writer', writer.write),
      guard('the live judge', (e) => judge.step(e)),
      guard('the fault log', faults.step),
    ],
    selfMonitor: { maxEventLoopMs: o.maxEventLoopMs, maxSenderLagMs: o.maxSenderLagMs },
    serverArgs: [
      ...(o.defects ?? []).flatMap((d) => ['--defect', d]),
      ...(o.defectRate === undefined ? [] : ['--defect-rate', String(o.defectRate)]),
    ],
    signal: ac.signal,
    onProgress: o.onProgress,
  });
  } catch (err) {
    if (err instanceof InvalidScenarioError) {
      // The proxy refused a toxic of the scenario before anything ran: a bad scenario (exit 2),
      // so no half-written run folder is left behind.
      await writer.close().catch(() => {});
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    // runPlan turns run failures into its outcome; anything else is a harness bug, and the run
    // still gets its report (DESIGN: every run writes a report).
    const cause = `harness failure: ${err instanceof Error ? err.message : String(err)}`;
    outcome = {
      runId,
      end: { kind: 'infrastructure', step: 'set-up', source: 'harness', cause },
      endReason: 'error',
      infraError: cause,
      self: { worstEventLoopP99Ms: 0, worstSenderLagP99Ms: 0, senderLagMaxMs: 0, overloaded: null },
      target: o.target ?? '',
      toxiproxy: null,
      proxyProcesses: 0,
      events: 0,
    };
  } finally {
    o.signal?.removeEventListener('abort', forward);
  }
  // What goes wrong after the run (writing, judging) joins its end: the first cause is kept.
  const end = RunEndLatch.from(outcome.end, outcome.infraError);
  const failedAfter = (cause: string) => end.report({ kind: 'infrastructure', step: 'teardown', source: 'harness', cause });
  try {
    await writer.close();
  } catch (err) {
    failedAfter(`could not write the history file: ${(err as Error).message}`);
  }
  if (broken.length > 0) {
    failedAfter(`${broken.join('; ')} (the history file has every event; re-judge with \`chatstorm check ${dir}\`)`);
  }
  let verdict: Verdict;
  try {
    verdict = judge.result();
  } catch (err) {
    failedAfter(`the judge failed: ${err instanceof Error ? err.message : String(err)}`);
    verdict = { checks: {}, metrics: {} };
  }
  const summary = summarize({
    verdict,
    slas,
    infraError: end.error,
    run: { runId, scenario: plan.scenario, seed: plan.seed, startedAt: faults.startedAt, endReason: endReasonOf(end.end) },
    harness: { ...outcome.self, events: outcome.events },
    target: outcome.target || null,
    toxiproxy: outcome.toxiproxy,
    faults: faults.list(),
    allowHarnessLag: o.allowHarnessLag ?? false,
  });
  await writeReports(dir, summary, verdict.series ?? []);
  return { summary, dir, exitCode: exitCodeOf(summary.verdict), notes };
}

/** Console rendering plus where the files are. */
export function describeResult(r: RunScenarioResult): string {
  return `${renderConsole(r.summary)}\n\nreports: ${r.dir}`;
}
