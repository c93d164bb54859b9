/**
 * `chatstorm capacity <scenario>`: the highest offered message rate at which the scenario still
 * meets its SLAs under its network profile.
 *
 *   scenario + options --validate (exit 2)--> search (ramp, bisect, budget)
 *        each probe: probeScenario(rate) --> runScenario (reports/<run>/probe-NN/) --> outcome
 *   --> reports/<run>/capacity.json + capacity.html + console table; exit code of the answer
 *
 * Exit codes: 0 a knee was found (or the maximum rate passed, or a lower bound when the harness
 * or the budget stopped the climb), 1 even the lowest probe failed, 2 bad usage, 3 infrastructure
 * failure, or the harness could not offer even the lowest rate.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadScenario } from '../scenario/load.ts';
import { formatMs } from '../scenario/duration.ts';
import { validateScenario } from '../scenario/validate.ts';
import { buildPlan } from '../plan/plan.ts';
import { checkTarget } from '../net/target.ts';
import { UsageError } from '../errors.ts';
import { makeRunId } from '../run/runner.ts';
import type { Driver } from '../drivers/driver.ts';
import { mergeSlas } from './run-command.ts';
import { offeredRateOf, scaleScenario, shortenScenario } from '../capacity/probe-scenario.ts';
import { runProbe, type ProbeFigures } from '../capacity/probe.ts';
import { DEFAULT_GROWTH, DEFAULT_RESOLUTION, exitCodeOfAnswer, fmtRate, searchCapacity } from '../capacity/search.ts';
import { CAPACITY_FILES, CAPACITY_SCHEMA, headlineOf, renderCapacityConsole, type CapacityReport } from '../capacity/report.ts';
import { renderCapacityHtml } from '../report/capacity-html.ts';

/** Defaults of the search (see docs/capacity.md). */
export const CAPACITY_DEFAULTS = {
  budgetMs: 10 * 60_000,
  probeDurationMs: 10_000,
  probeGraceMs: 5_000,
  /** Set-up and tear-down of one probe (server, proxies, connections) before its first one is timed. */
  setupMs: 5_000,
  /** Without --max-rate: this many doublings above the start. */
  rampSteps: 6,
} as const;

export interface CapacityOptions {
  /** Path of a scenario file, or a scenario object. */
  scenario: string | unknown;
  /** SLA expressions; each replaces a scenario SLA on the same metric and statistic, or is added. */
  sla?: string[];
  /** Lowest rate (msg/s), the first probe; default the scenario's own offered rate in a probe window. */
  startRate?: number;
  /** Highest rate (msg/s) to probe; default the start x 2^6. */
  maxRate?: number;
  /** Time the whole search may take, ms (default 10 min). */
  budgetMs?: number;
  /** Send window of each probe, ms (default 10 s). */
  probeDurationMs?: number;
  /** Longest wait for stragglers after a probe's window, ms (default 5 s, at most the scenario's grace). */
  probeGraceMs?: number;
  /** Bisection stops when the bracket is within this share (default 0.1). */
  resolution?: number;
  /** Ramp factor (default 2). */
  growth?: number;
  target?: string;
  toxiproxy?: string;
  driver?: Driver;
  seed?: number;
  /** Parent folder of run folders, default `reports`. */
  out?: string;
  runId?: string;
  maxSenderLagMs?: number;
  maxEventLoopMs?: number;
  /**
   * Probes whose own harness lag is material (docs/honesty.md) are judged on their SLAs with the
   * figures marked, instead of counting as rates the harness could not measure. Default false.
   */
  allowHarnessLag?: boolean;
  signal?: AbortSignal;
  /** Called before each probe starts, and with its figures once it ended. */
  onProbeStart?: (index: number, targetPerS: number) => void;
  onProbe?: (f: ProbeFigures) => void;
  /** Monotonic clock, ms (tests). */
  now?: () => number;
}

export interface CapacityResult {
  report: CapacityReport;
  dir: string;
  exitCode: number;
}

function positive(flag: string, v: number | undefined): void {
  if (v !== undefined && !(v > 0 && Number.isFinite(v))) throw new UsageError(`${flag} must be a number above 0, got ${v}`);
}

/** Run a capacity search and write its reports. Throws UsageError (and scenario errors) before any probe. */
export async function capacitySearch(o: CapacityOptions): Promise<CapacityResult> {
  // ---------------------------------------------------------------- validate (exit 2)
  if (o.target !== undefined) checkTarget(o.target);
  positive('--start-rate', o.startRate);
  positive('--max-rate', o.maxRate);
  positive('--budget', o.budgetMs);
  positive('--probe-duration', o.probeDurationMs);
  positive('--probe-grace', o.probeGraceMs);
  if (o.resolution !== undefined && !(o.resolution > 0 && o.resolution < 1)) throw new UsageError(`--resolution must be a share between 0 and 100 %, e.g. 10%, got ${o.resolution}`);
  if (o.growth !== undefined && !(o.growth > 1 && Number.isFinite(o.growth))) throw new UsageError(`growth must be above 1, got ${o.growth}`);
  const scenario = typeof o.scenario === 'string' ? (await loadScenario(o.scenario)).scenario : validateScenario(o.scenario);
  const slas = mergeSlas(scenario.sla, o.sla ?? []).map((s) => s.expr);
  const window = { durationMs: o.probeDurationMs ?? CAPACITY_DEFAULTS.probeDurationMs, graceMs: Math.min(scenario.grace, o.probeGraceMs ?? CAPACITY_DEFAULTS.probeGraceMs) };
  const ownRate = offeredRateOf(buildPlan(scaleScenario(shortenScenario(scenario, window), 1), o.seed));
  const startPerS = o.startRate ?? (o.maxRate !== undefined ? Math.min(o.maxRate, ownRate) : ownRate);
  if (!(startPerS > 0)) {
    throw new UsageError(`scenario ${scenario.name} plans no messages in the second half of a ${window.durationMs} ms probe; give --start-rate, or lengthen the probes (--probe-duration)`);
  }
  const maxPerS = o.maxRate ?? startPerS * 2 ** CAPACITY_DEFAULTS.rampSteps;
  if (maxPerS < startPerS) throw new UsageError(`--max-rate (${maxPerS} msg/s) must be at least the start rate (${startPerS} msg/s; set --start-rate lower)`);
  const budgetMs = o.budgetMs ?? CAPACITY_DEFAULTS.budgetMs;
  const probeEstimateMs = window.durationMs + window.graceMs + CAPACITY_DEFAULTS.setupMs;
  if (budgetMs < probeEstimateMs) {
    throw new UsageError(`--budget ${formatMs(budgetMs)} cannot fit one probe of about ${formatMs(probeEstimateMs)} (window ${formatMs(window.durationMs)} + grace ${formatMs(window.graceMs)} + set-up); raise --budget or shorten --probe-duration`);
  }

  // ---------------------------------------------------------------- search
  const now = o.now ?? (() => performance.now());
  const runId = o.runId ?? `${makeRunId(scenario.name)}-capacity`;
  const dir = resolve(o.out ?? 'reports', runId);
  await mkdir(dir, { recursive: true });
  const startedAt = new Date().toISOString();
  const t0 = now();
  // Every probe stops at the end of the budget; the search itself starts none that cannot fit.
  const budget = new AbortController();
  const timer = setTimeout(() => budget.abort(), budgetMs);
  const figures: ProbeFigures[] = [];
  let result;
  try {
    const ctx = {
      scenario,
      window,
      seed: o.seed,
      dir,
      tag: randomBytes(3).toString('hex'),
      run: { target: o.target, toxiproxy: o.toxiproxy, driver: o.driver, sla: o.sla, maxSenderLagMs: o.maxSenderLagMs, maxEventLoopMs: o.maxEventLoopMs, allowHarnessLag: o.allowHarnessLag ?? false },
      signal: o.signal,
      budgetSignal: budget.signal,
      now,
    };
    result = await searchCapacity(
      async (rate) => {
        if (o.signal?.aborted) return { kind: 'abort', cause: 'interrupted', reason: 'interrupted before the probe' };
        o.onProbeStart?.(figures.length + 1, rate);
        const p = await runProbe(ctx, figures.length + 1, rate);
        figures.push(p.figures);
        o.onProbe?.(p.figures);
        return p.outcome;
      },
      { startPerS, maxPerS, growth: o.growth, resolution: o.resolution, budgetMs, probeEstimateMs, now },
    );
  } finally {
    clearTimeout(timer);
  }

  // ---------------------------------------------------------------- report
  const exitCode = exitCodeOfAnswer(result.answer);
  const report: CapacityReport = {
    schema: CAPACITY_SCHEMA,
    kind: 'chatstorm-capacity',
    runId,
    scenario: scenario.name,
    seed: o.seed ?? scenario.seed,
    startedAt,
    target: o.target ?? null,
    options: {
      startPerS,
      maxPerS,
      growth: o.growth ?? DEFAULT_GROWTH,
      resolution: o.resolution ?? DEFAULT_RESOLUTION,
      budgetMs,
      probeDurationMs: window.durationMs,
      probeGraceMs: window.graceMs,
      sla: slas,
    },
    answer: result.answer,
    headline: headlineOf(result.answer),
    stoppedBecause: result.stoppedBecause,
    elapsedMs: now() - t0,
    exitCode,
    probes: figures.map((f, i) => ({ ...f, phase: result.steps[i]?.phase ?? 'ramp' })),
  };
  await writeFile(join(dir, CAPACITY_FILES.json), JSON.stringify(report, null, 2) + '\n');
  await writeFile(join(dir, CAPACITY_FILES.html), renderCapacityHtml(report, dir));
  return { report, dir, exitCode };
}

/** Console table, then where the files are (the HTML last: the line a user clicks). */
export function describeCapacity(r: CapacityResult): string {
  return `${renderCapacityConsole(r.report)}\n\nreports: ${r.dir}\nreport: ${join(r.dir, CAPACITY_FILES.html)}`;
}

/**
 * The CLI around {@link capacitySearch}: a line per probe on stderr (unless `quiet`), the first
 * SIGINT/SIGTERM stops the running probe cleanly (its report written) and ends the search with
 * the answer so far; a second quits at once. Resolves with the exit code.
 */
export async function capacityCli(o: Omit<CapacityOptions, 'signal' | 'onProbe' | 'onProbeStart'> & { quiet?: boolean }): Promise<number> {
  const ac = new AbortController();
  let interrupts = 0;
  const onSignal = () => {
    if (++interrupts > 1) process.exit(130);
    process.stderr.write('\nchatstorm: stopping the capacity search — ending the running probe, writing the reports (Ctrl-C again to quit at once)\n');
    ac.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const say = (line: string) => {
    if (!o.quiet) process.stderr.write(`chatstorm: ${line}\n`);
  };
  try {
    const r = await capacitySearch({
      ...o,
      signal: ac.signal,
      onProbeStart: (i, rate) => say(`probe ${i} at ${fmtRate(rate)} msg/s ...`),
      onProbe: (f) =>
        say(
          `probe ${f.index}: offered ${fmtRate(f.offeredPerS)} msg/s, ${f.verdict.toUpperCase()}` +
            (f.deliveryP99Ms === null ? '' : `, delivery p99 ${f.deliveryP99Ms.toFixed(0)} ms`) +
            (f.verdict === 'pass' ? '' : ` (${f.reasons[0] ?? 'no reason given'})`),
        ),
    });
    process.stdout.write(describeCapacity(r) + '\n');
    return r.exitCode;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
