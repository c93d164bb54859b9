/**
 * `chatstorm run`: scenario -> plan -> runner (history streamed to disk, judged live) -> SLA gate
 * -> reports. Also the library entry point (`runScenario`), with the same options as the CLI.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { loadScenario } from '../scenario/load.ts';
import { validateScenario } from '../scenario/validate.ts';
import type { Scenario } from '../scenario/schema.ts';
import { loadQuickSpec, quickScenario, type QuickSpec } from '../scenario/quick.ts';
import { buildPlan, type Plan } from '../plan/plan.ts';
import { shardPlan, type ShardSpec } from '../plan/shard.ts';
import { ChatstormJudge, parseSla, validateSlaMetric, type Sla, type Verdict } from '../check/index.ts';
import { encodeHistograms, manifestOf, writeHistograms, writeManifest } from '../merge/shard-files.ts';
import { HistoryWriter } from '../history/writer.ts';
import { forEachHistoryEvent } from '../history/reader.ts';
import { guardListener } from '../history/guard.ts';
import { runPlan, makeRunId, type RunOutcome } from '../run/runner.ts';
import { RunEndLatch, endReasonOf } from '../run/run-end.ts';
import { LiveProgressTracker, type LiveProgress } from '../report/progress.ts';
import { HarnessError, InvalidScenarioError, UsageError } from '../errors.ts';
import { checkHttpTarget, checkTarget, readTrust, type TlsTrust } from '../net/target.ts';
import { externalToxiproxyUrl } from '../net/toxiproxy.ts';
import { staleProxyWarning } from '../net/stale-proxies.ts';
import type { Driver } from '../drivers/driver.ts';
import { checkDriver, loadDriver } from '../drivers/load.ts';
import { referenceDriver } from '../drivers/reference.ts';
import { checkScenarioForDriver } from '../drivers/capabilities.ts';
import { exitCodeOf, type Summary } from '../report/summary.ts';
import { FaultLog } from '../report/fault-log.ts';
import { summarize } from './summarize.ts';
import { writeReports, REPORT_FILES } from '../report/write.ts';
import { renderConsole, renderMarkdown } from '../report/text.ts';
import { publishStepSummary } from '../report/step-summary.ts';
import { LiveMetrics } from '../report/live-metrics.ts';
import { liveAnomalies, liveDeliveryP99Ms } from '../report/live-judge.ts';
import { startMetricsServer, type MetricsServer } from '../report/metrics-server.ts';
import { ThroughputMeter } from '../report/throughput.ts';
import { RunSeries } from '../report/run-series.ts';
import { compareToBaseline, DEFAULT_MAX_REGRESSION_PCT, gateOnBaseline, loadBaseline, type BaselineRun } from '../report/baseline.ts';
import type { HistoryEvent } from '../history/events.ts';

export interface RunScenarioOptions {
  /** Path of a scenario file, or an already-written scenario object (ignored with `plan`). */
  scenario: string | unknown;
  /** A plan built elsewhere (a replayed trace): run it instead of expanding a scenario. */
  plan?: Plan;
  /** The chat server, `ws://` or `wss://` with its path and query (default: start the built-in server). */
  target?: string;
  /** HTTP(S) base URL of the server's API, for drivers that call one (default: the target's origin with http(s)). */
  httpTarget?: string;
  /** PEM file of a CA (or self-signed certificate) to trust for a `wss://` / `https://` target. */
  ca?: string;
  /** Do not verify the target's certificate (self-signed staging servers). */
  insecure?: boolean;
  toxiproxy?: string;
  seed?: number;
  /** Overrides the scenario's duration (send window), ms (applied after `quick`). */
  durationMs?: number;
  /**
   * Quick mode: shorter and smaller, the same shape (src/scenario/quick.ts). `true` uses the
   * scenario file's `quick` export when it has one; an object is the quick spec itself.
   */
  quick?: boolean | QuickSpec;
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
   * The driver: an object, a built-in driver's name (`reference`) or a module path (relative to
   * the working directory). Default: the scenario's `driver` (relative to the scenario file), else
   * the reference driver. Any driver but the reference driver needs `target`.
   */
  driver?: Driver | string;
  /** Options of a built-in driver or a driver module's factory (`--driver-option key=value`). */
  driverOptions?: Record<string, string>;
  /** Path of an earlier run's summary.json: fail (exit 1) when delivery delay or throughput regressed against it. */
  baseline?: string;
  /** Allowed regression against `baseline`, in per cent (default 10). */
  maxRegressionPct?: number;
  /** Serve live Prometheus metrics on this port during the run (0: any free port). Default: none. */
  metricsPort?: number;
  /** Address of the metrics endpoint, default 127.0.0.1. */
  metricsHost?: string;
  /** Called with `http://HOST:PORT/metrics` once the metrics endpoint listens. */
  onMetricsListening?: (url: string) => void;
  /**
   * Accept a run whose own lag is a material part of its delays (see gate.ts): the verdict
   * stands and the reports mark every inflated figure, instead of ending `error` (exit 3).
   * Default false. CLI: `--allow-harness-lag`.
   */
  allowHarnessLag?: boolean;
  /**
   * When the checks run (CLI `--judge`). `after` (the default): the run only records; the history
   * file is judged once the run has ended, with the verdict a live judge gives. The thread that
   * times sends and arrivals then does no checking and keeps no checker state on its heap, so its
   * own lag stays far lower at high rates (docs/honesty.md); the progress line has no anomaly
   * counts or delivery p99 during the run. `live`: every event is judged as it comes, and the
   * progress line and the metrics count anomalies during the run; the default when
   * `metricsPort` is given (live metrics need live judging).
   */
  judge?: JudgeWhen;
  runId?: string;
  /**
   * Run one shard of the plan (`--shard i/n`): its accounts and their conversations, with the
   * whole plan's times and keys. The run id gets `-s<i>of<n>` appended.
   */
  shard?: ShardSpec;
  signal?: AbortSignal;
  /** About once a second: the runner's counters plus live figures (rates, p99 and anomalies so far, active faults). */
  onProgress?: (p: LiveProgress) => void;
  /** Awaited when every device is live, before play (local workers start together). */
  beforePlay?: () => Promise<void>;
  /** Told at once about what the user should fix outside this run (also kept in `notes`). */
  onWarning?: (message: string) => void;
}

/** The history writer's name in listener failures. */
const HISTORY_WRITER = 'the history writer';

/** When a run's checks run: as the events come, or over the history file after the run. */
export type JudgeWhen = 'live' | 'after';
export const JUDGE_WHEN: readonly JudgeWhen[] = ['live', 'after'];
/** `--judge`, or its default: after, except live with live metrics (`--metrics-port`). */
export const judgesLive = (o: Pick<RunScenarioOptions, 'judge' | 'metricsPort'>): boolean => (o.judge ?? (o.metricsPort === undefined ? 'after' : 'live')) === 'live';

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

/** The baseline gate's input, checked before anything starts (exit 2 naming the flag). */
export interface BaselineGate {
  run: BaselineRun;
  maxRegressionPct: number;
}

/** Load `--baseline` and check `--max-regression`; null without a baseline. Throws UsageError. */
export async function prepareBaseline(o: Pick<RunScenarioOptions, 'baseline' | 'maxRegressionPct'>): Promise<BaselineGate | null> {
  if (o.maxRegressionPct !== undefined && !(o.maxRegressionPct > 0 && Number.isFinite(o.maxRegressionPct))) {
    throw new UsageError(`--max-regression must be a percentage above 0 such as 10%, got ${o.maxRegressionPct}`);
  }
  if (o.baseline === undefined) {
    if (o.maxRegressionPct !== undefined) throw new UsageError('--max-regression needs --baseline path/to/summary.json (the run to compare with)');
    return null;
  }
  return { run: await loadBaseline(o.baseline), maxRegressionPct: o.maxRegressionPct ?? DEFAULT_MAX_REGRESSION_PCT };
}

/** What every run checks before anything starts: targets and trust, metrics port, baseline, driver. */
async function prepareRun(o: RunScenarioOptions, scenario: Scenario | null, scenarioDir: string): Promise<{ driver: Driver; trust: TlsTrust; baseline: BaselineGate | null }> {
  const chat = o.target === undefined ? null : checkTarget(o.target);
  const http = o.httpTarget === undefined ? null : checkHttpTarget(o.httpTarget);
  if (http && !chat) throw new UsageError('--http-target needs --target: the built-in server is reached by its own address');
  const trust = await readTrust({ ...(o.ca === undefined ? {} : { caFile: o.ca }), ...(o.insecure ? { insecure: true } : {}) });
  const secure = chat?.protocol === 'wss:' || http?.protocol === 'https:';
  if ((o.ca !== undefined || o.insecure) && !secure) {
    throw new UsageError(`${o.ca !== undefined ? '--ca' : '--insecure'} applies to a wss:// --target (or an https:// --http-target)${chat ? `, got ${chat.href}` : '; the built-in server speaks plain ws://'}`);
  }
  if (o.judge !== undefined && !JUDGE_WHEN.includes(o.judge)) {
    throw new UsageError(`--judge must be ${JUDGE_WHEN.join(' or ')}, got ${String(o.judge)}`);
  }
  if (o.metricsPort !== undefined && !(Number.isInteger(o.metricsPort) && o.metricsPort >= 0 && o.metricsPort <= 65535)) {
    throw new UsageError(`--metrics-port must be a port number 0..65535, got ${o.metricsPort}`);
  }
  const baseline = await prepareBaseline(o);
  const driver = await chooseDriver(o, scenario, scenarioDir);
  return { driver, trust, baseline };
}

/** Validate everything that can be wrong before anything starts (exit 2 on failure). */
export async function prepare(o: RunScenarioOptions): Promise<{ scenario: Scenario; plan: Plan; slas: Sla[]; notes: string[]; driver: Driver; trust: TlsTrust; baseline: BaselineGate | null }> {
  const loaded = typeof o.scenario === 'string' ? await loadScenario(o.scenario) : null;
  let scenario = loaded?.scenario ?? validateScenario(o.scenario);
  const run = await prepareRun(o, scenario, loaded ? dirname(loaded.path) : process.cwd());
  const notes: string[] = [];
  if (o.quick) {
    const spec = typeof o.quick === 'object' ? o.quick : typeof o.scenario === 'string' ? await loadQuickSpec(o.scenario) : undefined;
    const q = quickScenario(scenario, spec);
    scenario = q.scenario;
    notes.push(q.note);
  }
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
    // A sweep due after the shortened window starts at its end instead (dropping it would leave
    // the preloaded range unjudged; starting it later than the window is refused).
    const h = scenario.traffic.history;
    let traffic = scenario.traffic;
    if (h?.sweep && h.sweep.at > limit) {
      notes.push(`--duration ${limit} ms: traffic.history.sweep starts at ${limit} ms instead of ${h.sweep.at} ms`);
      traffic = { ...traffic, history: { ...h, sweep: { ...h.sweep, at: limit } } };
    }
    scenario = validateScenario({ ...scenario, duration: limit, traffic, faults: scenario.faults.filter((f) => f.at <= limit) });
  }
  const slas = mergeSlas(scenario.sla, o.sla ?? []);
  // Traffic the driver cannot carry, or sizes beyond its limits: a bad scenario for it (exit 2).
  checkScenarioForDriver(scenario, run.driver);
  const whole = buildPlan(scenario, o.seed);
  const plan = o.shard ? shardPlan(whole, o.shard) : whole;
  return { scenario, plan, slas, notes, ...run };
}

/** What a plan built elsewhere (a replayed trace) needs before it runs: the same checks as `prepare`. */
async function preparePlan(o: RunScenarioOptions, plan: Plan): Promise<{ plan: Plan; slas: Sla[]; notes: string[]; driver: Driver; trust: TlsTrust; baseline: BaselineGate | null }> {
  return { plan, slas: mergeSlas(plan.sla, o.sla ?? []), notes: [], ...(await prepareRun(o, null, process.cwd())) };
}

/** The driver a run of a plan built elsewhere (a replayed trace) would use: `--driver` or the reference driver. */
export function resolveDriver(o: RunScenarioOptions): Promise<Driver> {
  return chooseDriver(o, null, process.cwd());
}

/**
 * The run's driver: `--driver` over the scenario's `driver:` over the reference driver. Only the
 * reference driver can talk to the built-in server, so any other needs a target.
 */
async function chooseDriver(o: RunScenarioOptions, scenario: Scenario | null, scenarioDir: string): Promise<Driver> {
  let driver: Driver;
  let named: string;
  if (typeof o.driver === 'string') {
    driver = await loadDriver(o.driver, { from: '--driver', ...(o.driverOptions ? { driverOptions: o.driverOptions } : {}) });
    named = `--driver ${o.driver}`;
  } else if (o.driver !== undefined) {
    driver = checkDriver(o.driver, 'options.driver');
    named = `driver ${driver.name}`;
  } else if (scenario?.driver !== undefined) {
    driver = await loadDriver(scenario.driver, { from: 'scenario field `driver`', baseDir: scenarioDir, ...(o.driverOptions ? { driverOptions: o.driverOptions } : {}) });
    named = `the scenario's driver ${scenario.driver}`;
  } else {
    return referenceDriver;
  }
  if (driver !== referenceDriver && o.target === undefined) {
    throw new UsageError(
      `${named} needs --target: without one chatstorm starts its built-in server, which speaks only the reference protocol ` +
        '(`--driver reference`). Pass the address of the back end this driver talks to, e.g. --target wss://chat.staging.example.com/ws',
    );
  }
  return driver;
}

export async function runScenario(o: RunScenarioOptions): Promise<RunScenarioResult> {
  const { plan, slas, notes, baseline, driver, trust } = o.plan ? await preparePlan(o, o.plan) : await prepare(o);
  // Proxies a killed run left on a shared Toxiproxy: this run is not harmed by them, but they
  // hold ports and confuse whoever reads the proxy list, so say how to remove them.
  const external = externalToxiproxyUrl(o.toxiproxy);
  const stale = external ? await staleProxyWarning(external) : null;
  if (stale) {
    notes.push(stale);
    o.onWarning?.(stale);
  }
  const runId = (o.runId ?? makeRunId(plan.scenario)) + (plan.shard ? `-s${plan.shard.index}of${plan.shard.count}` : '');
  const judge = new ChatstormJudge();
  const live = judgesLive(o);
  // Judged after the run: chatstorm_anomalies_total has no samples during it (not zeros).
  const metrics = o.metricsPort === undefined ? null : new LiveMetrics(live ? { anomalies: () => liveAnomalies(judge) } : {});
  let metricsServer: MetricsServer | null = null;
  if (metrics !== null) {
    const host = o.metricsHost ?? '127.0.0.1';
    try {
      metricsServer = await startMetricsServer(metrics, o.metricsPort!, host);
    } catch (err) {
      throw new UsageError(`--metrics-port ${o.metricsPort}: cannot listen on ${host}:${o.metricsPort} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); pick a free port, or 0 for any`);
    }
    o.onMetricsListening?.(metricsServer.url);
  }
  try {
    return await runWithReports(o, { plan, slas, notes, baseline, runId, judge, live, metrics, driver, trust });
  } finally {
    await metricsServer?.close();
  }
}

async function runWithReports(
  o: RunScenarioOptions,
  p: { plan: Plan; slas: Sla[]; notes: string[]; baseline: BaselineGate | null; runId: string; judge: ChatstormJudge; live: boolean; metrics: LiveMetrics | null; driver: Driver; trust: TlsTrust },
): Promise<RunScenarioResult> {
  const { plan, slas, notes, baseline, runId, judge, live, metrics, driver, trust } = p;
  const dir = resolve(o.out ?? 'reports', runId);
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, REPORT_FILES.plan), JSON.stringify(plan) + '\n');
  } catch (err) {
    // Before anything started (a full disk, a read-only folder): exit 3 with the folder named.
    throw new HarnessError(`cannot write the run folder ${dir}: ${err instanceof Error ? err.message : String(err)}; free some space or pass --out with a writable folder`, { cause: err });
  }
  // Before the run: a shard that crashes still tells a merge which part of the plan is missing.
  if (plan.shard) await writeManifest(dir, manifestOf(plan, runId));

  const writer = new HistoryWriter(join(dir, REPORT_FILES.history));
  const faults = new FaultLog();
  const throughput = new ThroughputMeter();
  const runSeries = new RunSeries();
  // Judged after the run: no live figures (null), and the progress line says so.
  const progress = new LiveProgressTracker(live ? { anomalies: () => liveAnomalies(judge), deliveryP99Ms: () => liveDeliveryP99Ms(judge) } : null);
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
    ...(o.httpTarget === undefined ? {} : { httpTarget: o.httpTarget }),
    tls: trust,
    toxiproxy: o.toxiproxy,
    driver,
    listeners: [
      guard(HISTORY_WRITER, writer.write),
      ...(live ? [guard('the live judge', (e) => judge.step(e))] : []),
      guard('the fault log', faults.step),
      guard('the throughput meter', throughput.step),
      guard('the report series', runSeries.step),
      ...(metrics === null ? [] : [guard('the metrics', metrics.step)]),
      ...(o.onProgress === undefined ? [] : [guard('the progress line', progress.step)]),
    ],
    selfMonitor: { maxEventLoopMs: o.maxEventLoopMs, maxSenderLagMs: o.maxSenderLagMs },
    serverArgs: [
      ...(o.defects ?? []).flatMap((d) => ['--defect', d]),
      ...(o.defectRate === undefined ? [] : ['--defect-rate', String(o.defectRate)]),
    ],
    signal: ac.signal,
    onProgress: o.onProgress === undefined ? undefined : (p) => o.onProgress?.(progress.tick(p)),
    onPlay: () => progress.markPlay(),
    beforePlay: o.beforePlay,
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
  // Whether history.jsonl holds every event: what `--judge after` judges.
  let historyComplete = true;
  try {
    await writer.close();
  } catch (err) {
    historyComplete = false;
    failedAfter(`could not write the history file: ${(err as Error).message}`);
  }
  if (broken.length > 0) {
    if (broken.some((m) => m.startsWith(HISTORY_WRITER))) historyComplete = false;
    failedAfter(`${broken.join('; ')}${historyComplete ? ` (the history file has every event; re-judge with \`chatstorm check ${dir}\`)` : ''}`);
  }
  if (!live && !historyComplete) {
    notes.push('the run was not judged: --judge after judges the history file, which could not be written (--judge live judges the events as they come)');
  }
  let verdict: Verdict;
  try {
    // `--judge after`: the same checks over the file the writer has just closed (as `chatstorm
    // check` does), before anything reads the verdict. Without a complete file there is nothing
    // to judge: the run is already an error (exit 3), and no check claims a result.
    if (!live && historyComplete) await forEachHistoryEvent(join(dir, REPORT_FILES.history), (e) => judge.step(e));
    verdict = live || historyComplete ? judge.result() : { checks: {}, metrics: {} };
  } catch (err) {
    failedAfter(`the judge failed: ${err instanceof Error ? err.message : String(err)}`);
    verdict = { checks: {}, metrics: {} };
  }
  const summarizeRun = () =>
    withBaseline(
      {
        ...summarize({
          verdict,
          slas,
          infraError: end.error,
          run: { runId, scenario: plan.scenario, seed: plan.seed, startedAt: faults.startedAt, endReason: endReasonOf(end.end) },
          harness: { ...outcome.self, events: outcome.events },
          target: outcome.target || null,
          toxiproxy: outcome.toxiproxy,
          faults: faults.list(),
          allowHarnessLag: o.allowHarnessLag ?? false,
        }),
        throughput: throughput.result(),
      },
      baseline,
    );
  let summary = summarizeRun();
  try {
    await writeReports(dir, summary, { delay: verdict.series ?? [], series: runSeries.result() });
    // A shard saves its histograms encoded: the merge adds their counts (never percentiles).
    if (plan.shard) await writeHistograms(dir, encodeHistograms(judge.histograms()));
  } catch (err) {
    // A full disk (ENOSPC) or a folder that went away: the run was judged, so say what it found on
    // the console, as an infrastructure error (exit 3), rather than a bare stack trace.
    failedAfter(`could not write the reports to ${dir}: ${err instanceof Error ? err.message : String(err)}`);
    summary = summarizeRun();
  }
  const stepNote = await publishStepSummary(renderMarkdown(summary));
  if (stepNote !== null) notes.push(stepNote);
  return { summary, dir, exitCode: exitCodeOf(summary.verdict), notes };
}

/** Add the baseline comparison to a summary and apply its gate; the summary unchanged without one. */
export function withBaseline(s: Summary, b: BaselineGate | null): Summary {
  return b === null ? s : gateOnBaseline(s, compareToBaseline(s, b.run, b.maxRegressionPct));
}

/** Console rendering plus where the files are, the HTML report last (the line a user clicks). */
export function describeResult(r: Pick<RunScenarioResult, 'summary' | 'dir'>): string {
  return `${renderConsole(r.summary)}\n\nreports: ${r.dir}\nreport: ${join(r.dir, REPORT_FILES.html)}`;
}
