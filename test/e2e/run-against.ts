/**
 * Runs a scenario through the whole harness (runner, embedded Toxiproxy, live judge, reports)
 * against an in-process reference server, so a test can read how often a defect fired.
 */
import { runScenario } from '../../src/cli/run-command.ts';
import type { Summary } from '../../src/report/summary.ts';
import { expectValidSummary } from '../report/summary-schema.ts';
import type { ScenarioInput } from '../../src/scenario/index.ts';
import { startReferenceServer, type DefectName } from '../../src/server/index.ts';
import { CHECK_NAMES, type CheckName, type CheckStatus } from '../../src/check/index.ts';

export interface DefectRun {
  summary: Summary;
  dir: string;
  exitCode: number;
  /** How many times each enabled defect fired. */
  fired: Record<string, number>;
}

export async function runAgainst(scenario: ScenarioInput, out: string, defects: DefectName[] = [], defectRate?: number): Promise<DefectRun> {
  const server = await startReferenceServer({ port: 0, store: 'memory', defects, ...(defectRate === undefined ? {} : { defectRate }) });
  try {
    // The server shares this process's event loop, so the harness's lag and the server's own
    // time cannot be told apart here; these tests judge checks, not delays: material harness lag
    // is allowed and the figures marked (test/run/harness-lag.e2e.test.ts tests the rule).
    const r = await runScenario({ scenario, target: server.url, toxiproxy: 'embedded', out, allowHarnessLag: true });
    // Every summary a test produces honours the published contract (docs/summary.schema.json).
    expectValidSummary(r.summary);
    return { ...r, fired: Object.fromEntries(server.defectsFired) };
  } finally {
    await server.close();
  }
}

/** Each check's status, in report order. */
export function statuses(summary: Summary): Record<CheckName, CheckStatus | undefined> {
  return Object.fromEntries(CHECK_NAMES.map((n) => [n, summary.checks[n]?.status])) as Record<CheckName, CheckStatus | undefined>;
}
