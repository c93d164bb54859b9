/**
 * CI for the incident library, first half: every shipped scenario (scenarios/*.ts) in quick mode
 * against the correct reference server reaches its expected verdict (and shows the nacks it
 * must show). The release gate (`ci-smoke`) runs exactly as a CI job runs it, through the command
 * line (`chatstorm run scenarios/ci-smoke.ts --quick`, built-in server in a child process). The
 * other half, each scenario with its defect, is incidents-defect.e2e.test.ts (test/e2e/incidents.ts
 * says why they are two files).
 *
 * This file runs alone (`e2e-serial`): the scenarios with tight time SLAs or a history sweep.
 * The others ({@link sharesCores}) are incidents-clean-shared.e2e.test.ts, which runs beside other
 * files.
 */
import { describe, expect, it } from 'vitest';
import { expectationsOf, expectCleanRun, SCENARIO_FILES, sharesCores, useRunsFolder } from './incidents.ts';

const alone: string[] = [];
for (const f of SCENARIO_FILES) if (!(await sharesCores(f))) alone.push(f);

describe('shipped scenarios in quick mode, on the correct reference server (tight SLAs: alone)', () => {
  const out = useRunsFolder('incidents-clean', alone.length);

  it('include the incident library, each with machine-readable expectations', async () => {
    for (const name of ['cross-border-peak', 'attachment-burst', 'multi-device-unread', 'history-heavy', 'group-storm', 'rate-limited-account', 'flaky-reconnect', 'ci-smoke']) {
      expect(SCENARIO_FILES).toContain(`${name}.ts`);
    }
    for (const f of SCENARIO_FILES) {
      expect(await expectationsOf(f), `${f} has no \`export const expectations\``).toBeDefined();
    }
  });

  it('keep alone the scenarios whose runs a neighbour could fail: the release gate, the 2-3 s SLAs, the preloaded history', () => {
    for (const f of ['ci-smoke.ts', 'group-storm.ts', 'multi-device-unread.ts', 'history-heavy.ts', 'cross-border-peak.ts']) expect(alone).toContain(f);
  });

  for (const file of alone) {
    it(`${file}: its expected verdict on the correct reference server`, () => expectCleanRun(file, out()), 120_000);
  }
});
