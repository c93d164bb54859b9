/**
 * The gate: the verdict policy of a run, from the checks, the SLAs and how the run ended, to
 * `pass` | `fail` | `error` and an exit code. Reports render its answer; they never decide.
 *
 *   checks ──────┐
 *   SLAs ────────┼──> gate ──> { verdict, reasons, error, harnessLag } ──> exit code (0 pass, 1 fail, 3 error)
 *   end ─────────┤
 *   harness lag ─┘  (material → error naming the harness, or, when allowed, every figure marked)
 */
import { evaluateSlas, type Sla, type SlaResult } from './sla.ts';
import type { Verdict } from './types.ts';

/** The run's verdict: `error` is the harness's or its infrastructure's failure (exit 3). */
export type RunVerdict = 'pass' | 'fail' | 'error';

/** Checks that must have run for a run to pass: a run that checked nothing did not pass. */
export const REQUIRED_CHECKS = ['loss', 'duplicates', 'ordering'] as const;

/**
 * Pass only when no check and no SLA failed, the required checks ran (or the driver declared it
 * cannot support them: `unsupported`), and the harness and its infrastructure did not fail.
 * `error` (exit 3) wins over `fail` (exit 1).
 */
export function decide(verdict: Verdict, sla: readonly SlaResult[], infraError: string | null): { verdict: RunVerdict; reasons: string[] } {
  const reasons: string[] = [];
  if (infraError) return { verdict: 'error', reasons: [infraError] };
  for (const name of REQUIRED_CHECKS) {
    const c = verdict.checks[name];
    if (!c || (c.status === 'not-checked' && c.unsupported !== true)) {
      return { verdict: 'error', reasons: [`required check ${name} could not run${c?.note ? `: ${c.note}` : ''}`] };
    }
  }
  for (const c of Object.values(verdict.checks)) {
    if (c.status === 'fail') reasons.push(`check ${c.name} failed: ${c.count} anomal${c.count === 1 ? 'y' : 'ies'}`);
  }
  for (const s of sla) {
    if (!s.pass) reasons.push(`SLA ${s.expr} failed: actual ${s.actual ?? 'no data'}${s.note ? ` (${s.note})` : ''}`);
  }
  return { verdict: reasons.length > 0 ? 'fail' : 'pass', reasons };
}

/**
 * Harness lag below this is never material, ms: a delay figure within 5 ms of the truth is as
 * close as the bench's own criterion asks (bench/honesty-ladder.ts: within max(5 ms, 10 %)).
 */
export const HARNESS_LAG_FLOOR_MS = 5;
/** Share of a measured delay (or of the smallest delay SLA) above which harness lag is material. */
export const HARNESS_LAG_SHARE = 0.1;
/**
 * Share of its play time the harness's main thread waited for a CPU above which an exit 3 for
 * harness lag says the machine, not the load, is the likelier cause (src/run/cpu-wait.ts).
 */
export const CPU_WAIT_NOTABLE_SHARE = 0.05;

/** The harness's run-level lateness (SelfReport.lag): only the figures the rule reads. */
export interface HarnessLagInput {
  senderLag: { count: number; p50Ms: number; p99Ms: number };
  eventLoopDelay: { count: number; p50Ms: number; p99Ms: number };
  /** Their sum per delivery (independent); absent in older summaries: then p50 + p50, p99 + p99. */
  combined?: { p50Ms: number; p99Ms: number };
  /** The main thread's wall and run-queue time over the same span; absent or null where not measured. */
  cpu?: { wallMs: number; waitedMs: number } | null;
}

/** How much of the run's delays is the harness's own lateness, and whether that is material. */
export interface HarnessLagFinding {
  /**
   * Harness lag at the median, ms: what the harness added to a delivery (a late send, then a
   * wait for its event loop on arrival), the median of their sum (SelfReport.lag.combined).
   */
  p50Ms: number;
  /** Harness lag at p99, ms (the same sum's p99). */
  p99Ms: number;
  senderLagP99Ms: number;
  eventLoopDelayP99Ms: number;
  /** The measured delays the lag is weighed against: `delivery`, else `ack`, else null (none). */
  against: string | null;
  /** The smallest upper bound of a delay SLA, ms, or null when there is none. */
  smallestSlaMs: number | null;
  /** max(floor, 10 % of the smaller of that delay's p50 and the smallest delay SLA), ms. */
  limitP50Ms: number;
  /** max(floor, 10 % of the smaller of that delay's p99 and the smallest delay SLA), ms. */
  limitP99Ms: number;
  /** p50Ms > limitP50Ms or p99Ms > limitP99Ms. */
  material: boolean;
  /** The user allowed material harness lag (`--allow-harness-lag`): figures marked, no error. */
  allowed: boolean;
  /** Latency metrics whose figures include material harness lag (every one, when material). */
  inflated: string[];
  /**
   * Share of the measured span (play and drain) the harness's main thread spent runnable but
   * waiting for a CPU, 0–1; null where not measured (not Linux). Absent in older summaries.
   */
  waitedForCpuShare?: number | null;
}

/** The threshold of a delay SLA that bounds a time from above (`delivery.p99 < 3s`), else null. */
function delayBoundMs(s: Sla): number | null {
  return s.stat !== null && s.stat !== 'count' && (s.op === '<' || s.op === '<=') ? s.value : null;
}

/**
 * Weigh the harness's own lateness against the delays the run measured. Every delay is timed by
 * the harness: a late send (sender lag) and a delivery that waits for a busy event loop both add
 * to it. At each of p50 and p99 the harness lag (the distribution of sender lag + event-loop
 * delay, see SelfReport.lag.combined) is material when it exceeds
 *
 *   max(HARNESS_LAG_FLOOR_MS, HARNESS_LAG_SHARE × min(measured delay at that percentile, smallest delay SLA))
 *
 * i.e. when it could make a reported figure more than 10 % (and 5 ms) worse than the server's,
 * or could flip a delay SLA within 10 % of its threshold. Null when the lag was not measured
 * (a run that never played, or a summary written before the figures existed).
 */
export function weighHarnessLag(lag: HarnessLagInput | null | undefined, verdict: Verdict, slas: readonly Sla[], allowed: boolean): HarnessLagFinding | null {
  if (!lag) return null;
  const p50Ms = lag.combined?.p50Ms ?? lag.senderLag.p50Ms + lag.eventLoopDelay.p50Ms;
  const p99Ms = lag.combined?.p99Ms ?? lag.senderLag.p99Ms + lag.eventLoopDelay.p99Ms;
  const measured = (['delivery', 'ack'] as const).find((m) => (verdict.metrics[m]?.count ?? 0) > 0) ?? null;
  const bounds = slas.map(delayBoundMs).filter((v): v is number => v !== null);
  const smallestSlaMs = bounds.length > 0 ? Math.min(...bounds) : null;
  const limit = (delayMs: number | undefined): number => {
    const base = Math.min(delayMs ?? Infinity, smallestSlaMs ?? Infinity);
    return Math.max(HARNESS_LAG_FLOOR_MS, Number.isFinite(base) ? HARNESS_LAG_SHARE * base : 0);
  };
  const m = measured === null ? undefined : verdict.metrics[measured];
  // Nothing timed and no delay SLA: no figure the lag could inflate.
  const weighed = measured !== null || smallestSlaMs !== null;
  const limitP50Ms = limit(m?.p50Ms);
  const limitP99Ms = limit(m?.p99Ms);
  const material = weighed && (p50Ms > limitP50Ms || p99Ms > limitP99Ms);
  const inflated = material ? Object.entries(verdict.metrics).filter(([, v]) => v.count > 0).map(([k]) => k) : [];
  return {
    p50Ms: round2(p50Ms),
    p99Ms: round2(p99Ms),
    senderLagP99Ms: round2(lag.senderLag.p99Ms),
    eventLoopDelayP99Ms: round2(lag.eventLoopDelay.p99Ms),
    against: measured,
    smallestSlaMs,
    limitP50Ms: round2(limitP50Ms),
    limitP99Ms: round2(limitP99Ms),
    material,
    allowed,
    inflated,
    waitedForCpuShare: lag.cpu && lag.cpu.wallMs > 0 ? Math.round((lag.cpu.waitedMs / lag.cpu.wallMs) * 1000) / 1000 : null,
  };
}

/** The error a material, not allowed, harness lag ends the run with (exit 3). */
export function harnessLagError(f: HarnessLagFinding): string {
  const against = f.against === null ? 'the smallest delay SLA' : `${f.against} p50 and p99`;
  return (
    `the harness's own lag is a material part of the delays it measured: harness lag p50 ${f.p50Ms} ms (limit ${f.limitP50Ms}), ` +
    `p99 ${f.p99Ms} ms (limit ${f.limitP99Ms}; sender lag p99 ${f.senderLagP99Ms} ms + event-loop delay p99 ${f.eventLoopDelayP99Ms} ms), ` +
    `limits max(${HARNESS_LAG_FLOOR_MS} ms, ${HARNESS_LAG_SHARE * 100} % of ${against}). ` +
    'Lower the offered load or the devices per process (--workers), judge after the run instead of live (--judge after: ' +
    'no checking on the thread that times sends and arrivals), or pass --allow-harness-lag to report the inflated figures as such.' +
    cpuWaitAdvice(f)
  );
}

/** A share (0–1) as a percentage with one decimal, as the error and the reports print it. */
export function percentOf(share: number): number {
  return Math.round(share * 1000) / 10;
}

/**
 * When the harness's thread waited for a CPU a notable share of the run, the likelier cause of
 * its lag is the machine: other processes on it (the server, the proxy, other runs) had the cores.
 */
function cpuWaitAdvice(f: HarnessLagFinding): string {
  const share = f.waitedForCpuShare;
  if (share === null || share === undefined || share < CPU_WAIT_NOTABLE_SHARE) return '';
  return (
    ` Its main thread waited for a CPU ${percentOf(share)} % of the time it measured: other processes on this machine ` +
    '(the server, the proxy, other runs) had the cores it needed; run them elsewhere or give the harness cores of its own.'
  );
}

function round2(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/**
 * Checks whose failure harness lag cannot cause: a late harness does not lose an acknowledged
 * message (the drain waits for deliveries to go quiet), store one message twice, reorder one
 * socket's frames, deliver into the wrong conversation or change bytes. A run failing one of
 * these fails (exit 1) even when its delay figures are inflated: the server's defect is real.
 * `sync` is not here: it judges convergence within a time limit.
 */
export const LAG_INDEPENDENT_CHECKS = ['loss', 'duplicates', 'ordering', 'isolation', 'integrity', 'history'] as const;

/** What the gate needs to know about a run besides its checks. */
export interface GateInput {
  verdict: Verdict;
  slas: readonly Sla[];
  /** The run's infrastructure or harness failure, if any. */
  infraError: string | null;
  /** `complete`, or why the run ended early (summary.json's `endReason`). */
  endReason: string;
  /** The harness's run-level lag (SelfReport.lag); absent or null: not measured, not weighed. */
  harnessLag?: HarnessLagInput | null;
  /** Material harness lag marks the figures instead of ending the run `error` (default false). */
  allowHarnessLag?: boolean;
}

/** The gate's answer: the verdict, one reason per line, the SLA results and the run's error. */
export interface GateResult {
  verdict: RunVerdict;
  reasons: string[];
  sla: SlaResult[];
  /** The infrastructure or harness failure (exit 3), if any. */
  error: string | null;
  /** The harness's lag weighed against the run's delays, or null when it was not measured. */
  harnessLag: HarnessLagFinding | null;
}

/**
 * Judge the SLAs and apply {@link decide}. A run that did not end `complete` (interrupted,
 * overloaded, crashed) is an infrastructure error whatever the checks say: its missing
 * deliveries are the harness's doing, not the server's. So is a complete run whose own lag is a
 * material part of its delays ({@link weighHarnessLag}), unless the user allowed it, or a check
 * harness lag cannot cause failed ({@link LAG_INDEPENDENT_CHECKS}: that fail is the server's).
 * Whenever the lag is material, `harnessLag.inflated` names every figure the reports must mark.
 */
export function gate(i: GateInput): GateResult {
  const sla = evaluateSlas(i.slas, i.verdict);
  const harnessLag = weighHarnessLag(i.harnessLag, i.verdict, i.slas, i.allowHarnessLag ?? false);
  const failsAnyway = LAG_INDEPENDENT_CHECKS.some((n) => i.verdict.checks[n]?.status === 'fail');
  const lagError = harnessLag?.material && !harnessLag.allowed && !failsAnyway ? harnessLagError(harnessLag) : null;
  const error = i.infraError ?? (i.endReason === 'complete' ? lagError : `run ended early: ${i.endReason}`);
  const d = decide(i.verdict, sla, error);
  return { verdict: d.verdict, reasons: d.reasons, sla, error, harnessLag };
}

/** Exit code for a verdict: 0 pass, 1 fail, 3 error. */
export function exitCodeOf(v: RunVerdict): number {
  return v === 'pass' ? 0 : v === 'fail' ? 1 : 3;
}
