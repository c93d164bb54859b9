import { relative } from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * End-to-end files that judge verdicts, checks, reports, processes and files, never a delay, the
 * harness's own lag or CPU time: every run in them that must pass allows harness lag (or ends
 * before its play), and the delay SLAs their runs must meet are seconds. Two of them may run at
 * once. A file goes here only after reading it; any other e2e file runs alone (`e2e-serial`).
 * Longest first (seconds, in a whole `npm test` on the 2-core machine, 2026-12-01, with the
 * Debian packages already installed as .ci/run installs them): incidents-defect 183, xmpp 114,
 * cli run 104, incidents-clean-shared ~65 (five scenarios of incidents-clean, 12-13 each), defects
 * 50, pack 45, replay 35, contract test 34, kills 31, then the rest under 26 each.
 * Serial on purpose although its runs allow harness lag: shard/workers (it kills a worker found
 * on a 50 ms poll while a short run plays), and incidents-clean (the scenarios whose runs must
 * meet delay, sync and history-page SLAs of 2-3 s and finish history-heavy's sweep within the
 * grace: beside the other ~180 s file on 2 cores they could miss them; found in review). Its
 * scenarios with seconds to spare on every SLA are incidents-clean-shared, here. Serial too: the
 * two files that drive headless Chromium (report/html, capacity/capacity-html). Chromium takes
 * both cores while it starts and renders; beside it, runner.e2e's run ended in the overload
 * guard (event-loop delay p99 299 ms for 3 s, 2026-12-02, .ci/run from a clean clone), once
 * Chromium no longer spent its first minute being installed inside the file.
 *
 * Measured, `npx vitest run --project 'e2e*'` back to back on the shared 2-core machine
 * (2026-11-30, load 3-6): one e2e project, one file at a time, 886 s; this split, 514 s.
 */
const E2E_PARALLEL = [
  'test/e2e/incidents-defect.e2e.test.ts',
  'test/xmpp/xmpp-smoke.e2e.test.ts',
  'test/cli/run.e2e.test.ts',
  'test/e2e/incidents-clean-shared.e2e.test.ts',
  'test/package/pack.e2e.test.ts',
  'test/e2e/defects.e2e.test.ts',
  'test/trace/replay.e2e.test.ts',
  'test/drivers/contract-test.e2e.test.ts',
  'test/net/kills.e2e.test.ts',
  'test/deploy/indexed-job.e2e.test.ts',
  'test/net/orphans.e2e.test.ts',
  'test/net/disk-full.e2e.test.ts',
  'test/drivers/second-driver.e2e.test.ts',
  'test/cli/tls-target.e2e.test.ts',
  'test/report/metrics.e2e.test.ts',
  'test/cli/run-extension-toxics.e2e.test.ts',
  'test/run/runner.e2e.test.ts',
  'test/e2e/chaos.e2e.test.ts',
  'test/e2e/scale.e2e.test.ts',
  'test/check/bounded-memory.e2e.test.ts',
  'test/server/serve-cli.e2e.test.ts',
];

/**
 * Vitest's order, except that the `e2e-parallel` files start in the order of {@link E2E_PARALLEL}
 * (longest first, as measured): without a cache (CI after `npm ci`) vitest keeps the glob's
 * order, and the ~140 s incidents file starting last would leave one core idle at the end.
 */
class ListedOrderSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => E2E_PARALLEL.indexOf(relative(f.project.config.root, f.moduleId));
    const slots = sorted.flatMap((f, i) => (f.project.name === 'e2e-parallel' ? [i] : []));
    const listed = slots.map((i) => sorted[i]!).sort((a, b) => rank(a) - rank(b));
    slots.forEach((slot, j) => (sorted[slot] = listed[j]!));
    return sorted;
  }
}

export default defineConfig({
  test: {
    sequence: { sequencer: ListedOrderSequencer },
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Real sockets and child processes: two workers match the two cores CI has.
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/**/*.e2e.test.ts'], sequence: { groupOrder: 0 } },
      },
      {
        // After the unit tests, so the CPU-heavy unit tests never share the cores with them.
        extends: true,
        test: { name: 'e2e-parallel', include: E2E_PARALLEL, sequence: { groupOrder: 1 } },
      },
      {
        // End-to-end files that measure real time (toxic latencies with stated tolerances,
        // delivery delays against the harness-lag rule, a capacity knee, CPU burnt on purpose):
        // last, one file at a time, so nothing else skews their clocks.
        extends: true,
        test: { name: 'e2e-serial', include: ['test/**/*.e2e.test.ts'], exclude: E2E_PARALLEL, fileParallelism: false, sequence: { groupOrder: 2 } },
      },
    ],
  },
});
