import { evaluateSlas, type Sla, type Verdict } from '../check/index.ts';
import { decide, SUMMARY_SCHEMA, type Summary } from '../report/summary.ts';

export interface SummarizeInput {
  verdict: Verdict;
  slas: readonly Sla[];
  infraError: string | null;
  run: Pick<Summary, 'runId' | 'scenario' | 'seed' | 'startedAt' | 'endReason'>;
  harness: Summary['harness'];
  target: string | null;
  toxiproxy: Summary['toxiproxy'];
  faults: Summary['faults'];
}

/**
 * Judge the SLAs, apply the gate and assemble summary.json: shared by `run` and `check`, so a saved
 * run re-judges to the same verdict. A run that did not end `complete` (interrupted, overloaded,
 * crashed) is an infrastructure error whatever the checks say: its missing deliveries are the
 * harness's doing, not the server's.
 */
export function summarize(i: SummarizeInput): Summary {
  const sla = evaluateSlas(i.slas, i.verdict);
  const infraError = i.infraError ?? (i.run.endReason === 'complete' ? null : `run ended early: ${i.run.endReason}`);
  const gate = decide(i.verdict, sla, infraError);
  return {
    schema: SUMMARY_SCHEMA,
    verdict: gate.verdict,
    reasons: gate.reasons,
    ...i.run,
    error: infraError,
    checks: i.verdict.checks,
    metrics: i.verdict.metrics,
    sla,
    harness: i.harness,
    target: i.target,
    toxiproxy: i.toxiproxy,
    faults: i.faults,
  };
}
