/**
 * `--judge after`: the run only records, and the history file is judged once it has ended. The
 * verdict is the one a live judge gives (the same checks over the same events), the progress
 * line has no anomaly counts while the run goes, and a bad value is refused before anything runs.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenario, type RunScenarioResult } from '../../src/cli/run-command.ts';
import { checkRun } from '../../src/cli/check-command.ts';
import type { LiveProgress } from '../../src/report/progress.ts';
import { expectValidSummary } from '../report/summary-schema.ts';

const statuses = (r: RunScenarioResult) => Object.fromEntries(Object.entries(r.summary.checks).map(([k, c]) => [k, c.status]));

describe('chatstorm run --judge after', () => {
  let out: string;
  let live: RunScenarioResult;
  let after: RunScenarioResult;
  const progress: LiveProgress[] = [];

  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'chatstorm-judge-after-'));
    // Every stored message delivered out of order somewhere: ordering fails in both runs, whatever the timing.
    const scenario = 'test/fixtures/small.ts';
    live = await runScenario({ scenario, out, defects: ['reorder'], defectRate: 1, runId: 'live', judge: 'live' });
    // The default is after.
    after = await runScenario({ scenario, out, defects: ['reorder'], defectRate: 1, runId: 'after', onProgress: (p) => progress.push(p) });
  }, 600_000);

  afterAll(async () => {
    if (out) await rm(out, { recursive: true, force: true });
  });

  it('gives the verdict a live judge gives, from the history file', async () => {
    expectValidSummary(after.summary);
    expect(live.summary.checks.ordering?.status).toBe('fail');
    expect(after.exitCode).toBe(live.exitCode);
    expect(statuses(after)).toEqual(statuses(live));
    expect(after.summary.checks.ordering!.count).toBeGreaterThan(0);
    expect(after.summary.metrics.delivery!.count).toBeGreaterThan(0);
    // Re-judging the saved run agrees with what the run said about itself.
    const again = await checkRun(after.dir);
    expect(again.summary.checks).toEqual(after.summary.checks);
  });

  it('shows no anomalies or delivery p99 on the progress line while the run goes', () => {
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.some((p) => p.deliveredPerS > 0)).toBe(true);
    for (const p of progress) {
      expect(p.anomalies).toBeNull();
      expect(p.deliveryP99Ms).toBeNull();
    }
  });

  it('refuses a value other than live or after, naming the option, before anything runs', async () => {
    await expect(runScenario({ scenario: 'test/fixtures/small.ts', out, judge: 'later' as never })).rejects.toThrow('--judge must be live or after, got later');
  });
});
