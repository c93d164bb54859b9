import { gate, type Sla, type Verdict } from '../check/index.ts';
import { SUMMARY_SCHEMA, type Summary } from '../report/summary.ts';

export interface SummarizeInput {
  verdict: Verdict;
  slas: readonly Sla[];
  infraError: string | null;
  run: Pick<Summary, 'runId' | 'scenario' | 'seed' | 'startedAt' | 'endReason'>;
  harness: Summary['harness'];
  target: string | null;
  toxiproxy: Summary['toxiproxy'];
  faults: Summary['faults'];
  /** Material harness lag marks the figures instead of ending the run `error`. */
  allowHarnessLag?: boolean;
}

/**
 * Assemble summary.json around the gate's answer (src/check/gate.ts): shared by `run` and
 * `check`, so a saved run re-judges to the same verdict.
 */
export function summarize(i: SummarizeInput): Summary {
  const g = gate({
    verdict: i.verdict,
    slas: i.slas,
    infraError: i.infraError,
    endReason: i.run.endReason,
    harnessLag: i.harness?.lag ?? null,
    allowHarnessLag: i.allowHarnessLag ?? false,
  });
  return {
    schema: SUMMARY_SCHEMA,
    verdict: g.verdict,
    reasons: g.reasons,
    ...i.run,
    error: g.error,
    checks: i.verdict.checks,
    metrics: i.verdict.metrics,
    sla: g.sla,
    harness: i.harness,
    target: i.target,
    toxiproxy: i.toxiproxy,
    faults: i.faults,
    ...(i.verdict.connections === undefined ? {} : { connections: i.verdict.connections }),
    harnessLag: g.harnessLag,
  };
}
