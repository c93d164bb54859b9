/**
 * The gate: the verdict policy of a run, from the checks, the SLAs and how the run ended, to
 * `pass` | `fail` | `error` and an exit code. Reports render its answer; they never decide.
 *
 *   checks ─┐
 *   SLAs ───┼──> gate ──> { verdict, reasons, error } ──> exit code (0 pass, 1 fail, 3 error)
 *   end ────┘
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

/** What the gate needs to know about a run besides its checks. */
export interface GateInput {
  verdict: Verdict;
  slas: readonly Sla[];
  /** The run's infrastructure or harness failure, if any. */
  infraError: string | null;
  /** `complete`, or why the run ended early (summary.json's `endReason`). */
  endReason: string;
}

/** The gate's answer: the verdict, one reason per line, the SLA results and the run's error. */
export interface GateResult {
  verdict: RunVerdict;
  reasons: string[];
  sla: SlaResult[];
  /** The infrastructure or harness failure (exit 3), if any. */
  error: string | null;
}

/**
 * Judge the SLAs and apply {@link decide}. A run that did not end `complete` (interrupted,
 * overloaded, crashed) is an infrastructure error whatever the checks say: its missing
 * deliveries are the harness's doing, not the server's.
 */
export function gate(i: GateInput): GateResult {
  const sla = evaluateSlas(i.slas, i.verdict);
  const error = i.infraError ?? (i.endReason === 'complete' ? null : `run ended early: ${i.endReason}`);
  const d = decide(i.verdict, sla, error);
  return { verdict: d.verdict, reasons: d.reasons, sla, error };
}

/** Exit code for a verdict: 0 pass, 1 fail, 3 error. */
export function exitCodeOf(v: RunVerdict): number {
  return v === 'pass' ? 0 : v === 'fail' ? 1 : 3;
}
