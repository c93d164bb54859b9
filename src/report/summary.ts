/**
 * summary.json: the versioned, machine-readable result of a run. Later versions add fields and
 * never rename one (schema 1).
 */
import type { Verdict, CheckResult, SlaResult } from '../check/index.ts';
import type { LatencySummary } from '../stats/hdr.ts';
import type { SelfReport } from '../run/self-monitor.ts';
import type { Throughput } from './throughput.ts';
import type { BaselineReport } from './baseline.ts';

export const SUMMARY_SCHEMA = 1;

export type RunVerdict = 'pass' | 'fail' | 'error';

export interface Summary {
  schema: number;
  verdict: RunVerdict;
  /** Why the verdict is not `pass`, one line each. */
  reasons: string[];
  runId: string;
  scenario: string;
  seed: number;
  startedAt: string | null;
  endReason: string;
  /** Harness or infrastructure failure (exit 3), if any. */
  error: string | null;
  checks: Record<string, CheckResult>;
  metrics: Record<string, LatencySummary>;
  sla: SlaResult[];
  harness: (SelfReport & { events: number }) | null;
  target: string | null;
  toxiproxy: { url: string; kind: string } | null;
  faults: { fault: string; network: string; action: string; description: string; startMs: number; endMs: number | null }[];
  /** Sent and delivered per second (added in schema 1; null when nothing was sent). */
  throughput?: Throughput | null;
  /** This run against `--baseline` (added in schema 1; absent without `--baseline`). */
  baseline?: BaselineReport;
}

/** Checks that must have run for a run to pass: a run that checked nothing did not pass. */
export const REQUIRED_CHECKS = ['loss', 'duplicates', 'ordering'] as const;

/**
 * The gate: pass only when no check and no SLA failed, the required checks ran, and the harness
 * and its infrastructure did not fail. `error` (exit 3) wins over `fail` (exit 1).
 */
export function decide(verdict: Verdict, sla: readonly SlaResult[], infraError: string | null): { verdict: RunVerdict; reasons: string[] } {
  const reasons: string[] = [];
  if (infraError) return { verdict: 'error', reasons: [infraError] };
  for (const name of REQUIRED_CHECKS) {
    const c = verdict.checks[name];
    if (!c || c.status === 'not-checked') {
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

/** Exit code for a verdict: 0 pass, 1 fail, 3 error. */
export function exitCodeOf(v: RunVerdict): number {
  return v === 'pass' ? 0 : v === 'fail' ? 1 : 3;
}
