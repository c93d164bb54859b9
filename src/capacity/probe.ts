/**
 * One capacity probe: the scenario at one offered rate, run through `runScenario`, its result
 * read as a search outcome plus the figures the report shows.
 *
 *   rate --probeScenario--> plan --withFreshIds--> runScenario (own run folder) --> summary
 *        --classify--> pass | fail (exit 1) | limited (harness overloaded) | abort (infrastructure,
 *                      interrupted, budget)
 */
import { runScenario, type RunScenarioOptions, type RunScenarioResult } from '../cli/run-command.ts';
import { exitCodeFor, ExitCode } from '../errors.ts';
import type { Scenario } from '../scenario/schema.ts';
import type { Summary } from '../report/summary.ts';
import { probeScenario, type ProbeWindow } from './probe-scenario.ts';
import { withFreshIds } from './fresh-ids.ts';
import type { ProbeOutcome } from './search.ts';

/** How a probe ended, as the report shows it. */
export type ProbeVerdict = 'pass' | 'fail' | 'limited' | 'infrastructure' | 'interrupted' | 'budget';

/** One probe's figures (rates in msg/s, delays in ms from the intended send time). */
export interface ProbeFigures {
  /** 1-based, in the order run. */
  index: number;
  targetPerS: number;
  /** Planned messages per second over the second half of the window (see probe-scenario.ts). */
  offeredPerS: number;
  plannedSends: number;
  customers: number;
  /** Planned messages per second over the whole send window (the ramp-up included). */
  plannedPerS: number;
  /** Messages sent (first attempts); null when the probe did not run. */
  sent: number | null;
  /** Messages sent per second of the whole send window (compare with `plannedPerS`); null when the probe did not run. */
  achievedSendPerS: number | null;
  deliveredPerS: number | null;
  deliveryP50Ms: number | null;
  deliveryP99Ms: number | null;
  ackP99Ms: number | null;
  verdict: ProbeVerdict;
  /** The probe run's exit code; null when it did not run. */
  exitCode: number | null;
  /** Why it did not pass, one line each (the run's reasons). */
  reasons: string[];
  /** Expressions of the SLAs that failed. */
  failedSlas: string[];
  /** Names of the checks that failed. */
  failedChecks: string[];
  /** The probe's run folder (full reports of that run); null when it did not run. */
  runDir: string | null;
  elapsedMs: number;
}

/** What every probe of one search shares. */
export interface ProbeContext {
  scenario: Scenario;
  window: ProbeWindow;
  seed?: number;
  /** Folder of the capacity run: each probe's run folder goes inside it. */
  dir: string;
  /** Per-search tag of fresh ids (letters and digits). */
  tag: string;
  run: Pick<RunScenarioOptions, 'target' | 'toxiproxy' | 'driver' | 'sla' | 'maxSenderLagMs' | 'maxEventLoopMs'>;
  /** The user's signal (Ctrl-C). */
  signal?: AbortSignal;
  /** Aborted when the budget is over: a running probe stops, and is not counted as a failure. */
  budgetSignal: AbortSignal;
  now: () => number;
}

/** Run the probe at `ratePerS` (the `index`-th of the search). */
export async function runProbe(ctx: ProbeContext, index: number, ratePerS: number): Promise<{ outcome: ProbeOutcome; figures: ProbeFigures }> {
  const t0 = ctx.now();
  const ps = probeScenario(ctx.scenario, ratePerS, ctx.window, ctx.seed);
  const base = {
    index,
    targetPerS: ratePerS,
    offeredPerS: ps.offeredPerS,
    plannedSends: ps.plan.sends.length,
    plannedPerS: ps.plan.sends.length / (ps.plan.sendWindowMs / 1000),
    sent: null,
    customers: ps.customers,
    achievedSendPerS: null,
    deliveredPerS: null,
    deliveryP50Ms: null,
    deliveryP99Ms: null,
    ackP99Ms: null,
    exitCode: null,
    failedSlas: [],
    failedChecks: [],
    runDir: null,
  };
  if (ps.capped !== null) {
    const reason = `the scenario cannot offer ${ratePerS.toFixed(1)} msg/s: ${ps.capped}`;
    return { outcome: { kind: 'limited', reason }, figures: { ...base, verdict: 'limited', reasons: [reason], elapsedMs: ctx.now() - t0 } };
  }
  const ac = new AbortController();
  const stop = (why: 'interrupted' | 'budget') => () => {
    if (!ac.signal.aborted) ac.abort(why);
  };
  const onUser = stop('interrupted');
  const onBudget = stop('budget');
  ctx.signal?.addEventListener('abort', onUser, { once: true });
  ctx.budgetSignal.addEventListener('abort', onBudget, { once: true });
  if (ctx.signal?.aborted) onUser();
  if (ctx.budgetSignal.aborted) onBudget();
  let r: RunScenarioResult;
  try {
    r = await runScenario({
      ...ctx.run,
      scenario: undefined,
      plan: withFreshIds(ps.plan, `${ctx.tag}p${index}`),
      out: ctx.dir,
      // The search's tag keeps proxy names (`chatstorm-<run id>-<network>`) apart on a shared Toxiproxy.
      runId: `probe-${String(index).padStart(2, '0')}-${ctx.tag}`,
      signal: ac.signal,
    });
  } catch (err) {
    // A bad scenario or option is the user's to fix (exit 2); anything else ends the search as infrastructure.
    if (exitCodeFor(err) !== ExitCode.infrastructure) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    return { outcome: { kind: 'abort', cause: 'infrastructure', reason }, figures: { ...base, verdict: 'infrastructure', reasons: [reason], elapsedMs: ctx.now() - t0 } };
  } finally {
    ctx.signal?.removeEventListener('abort', onUser);
    ctx.budgetSignal.removeEventListener('abort', onBudget);
  }
  const s = r.summary;
  const outcome = classify(r, ac.signal.aborted ? (ac.signal.reason as 'interrupted' | 'budget') : null);
  const verdict: ProbeVerdict = outcome.kind === 'abort' ? outcome.cause : outcome.kind;
  const windowS = ps.plan.sendWindowMs / 1000;
  return {
    outcome,
    figures: {
      ...base,
      sent: s.throughput?.sent ?? 0,
      achievedSendPerS: (s.throughput?.sent ?? 0) / windowS,
      deliveredPerS: s.throughput?.deliveredPerS ?? null,
      deliveryP50Ms: s.metrics.delivery?.count ? s.metrics.delivery.p50Ms : null,
      deliveryP99Ms: s.metrics.delivery?.count ? s.metrics.delivery.p99Ms : null,
      ackP99Ms: s.metrics.ack?.count ? s.metrics.ack.p99Ms : null,
      verdict,
      exitCode: r.exitCode,
      reasons: s.reasons,
      failedSlas: s.sla.filter((x) => !x.pass).map((x) => x.expr),
      failedChecks: Object.values(s.checks).filter((c) => c.status === 'fail').map((c) => c.name),
      runDir: r.dir,
      elapsedMs: ctx.now() - t0,
    },
  };
}

/**
 * A probe run read as a search outcome: exit 0 passes, exit 1 is the server breaking, exit 3 is
 * the harness's own overload (`limited`), our own stop (`interrupted`, `budget`), or else an
 * infrastructure failure that ends the search.
 */
export function classify(r: { exitCode: number; summary: Pick<Summary, 'reasons' | 'endReason' | 'error' | 'harness' | 'harnessLag'> }, stoppedBy: 'interrupted' | 'budget' | null): ProbeOutcome {
  const s = r.summary;
  if (stoppedBy !== null) return { kind: 'abort', cause: stoppedBy, reason: stoppedBy === 'budget' ? 'the budget ran out during the probe' : 'interrupted' };
  if (r.exitCode === ExitCode.pass) return { kind: 'pass' };
  if (r.exitCode === ExitCode.fail) return { kind: 'fail', broken: s.reasons };
  const why = s.error ?? s.reasons.join('; ');
  if (s.endReason === 'harness-overloaded' || (s.harness?.overloaded ?? null) !== null) return { kind: 'limited', reason: `the harness overloaded itself: ${why}` };
  // Its own lag a material part of the delays (docs/honesty.md): the harness, not the server, is at its limit.
  if (s.harnessLag?.material && !s.harnessLag.allowed) return { kind: 'limited', reason: `the harness's own lag inflated the delays: ${why}` };
  return { kind: 'abort', cause: 'infrastructure', reason: why };
}
