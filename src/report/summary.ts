/**
 * summary.json: the versioned, machine-readable result of a run. Later versions add fields and
 * never rename one (schema 1).
 */
import type { Verdict, CheckResult, SlaResult, ConnectionSummary } from '../check/index.ts';
import type { LatencySummary } from '../stats/hdr.ts';
import type { SelfReport } from '../run/self-monitor.ts';
import type { Throughput } from './throughput.ts';
import type { BaselineReport } from './baseline.ts';
import type { HarnessLagFinding, RunVerdict } from '../check/gate.ts';

// The verdict policy lives in src/check/gate.ts; re-exported for existing importers.
export { decide, exitCodeOf, REQUIRED_CHECKS, type RunVerdict } from '../check/gate.ts';

export const SUMMARY_SCHEMA = 1;

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
  /** Connection attempts: failures by the step they reached (added with driver contract v2). */
  connections?: ConnectionSummary;
  /**
   * The harness's own lag weighed against the delays it measured (src/check/gate.ts): when
   * `material`, the run is `error` unless `allowed`, and `inflated` names every latency metric
   * whose figures include it. Null when not measured (added with the harness-lag rule).
   */
  harnessLag?: HarnessLagFinding | null;
}
