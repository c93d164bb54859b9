/**
 * CI for the incident library, first half, continued: the shipped scenarios whose time SLAs are
 * loose enough to run beside another test file ({@link sharesCores}: every tail bound at least
 * 5 s, no preloaded history) reach their expected verdict on the correct reference server in
 * quick mode. The rest run alone in incidents-clean.e2e.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { expectCleanRun, SCENARIO_FILES, sharesCores, useRunsFolder } from './incidents.ts';

const shared: string[] = [];
for (const f of SCENARIO_FILES) if (await sharesCores(f)) shared.push(f);

describe('shipped scenarios in quick mode, on the correct reference server (loose SLAs: beside other files)', () => {
  const out = useRunsFolder('incidents-clean-shared', shared.length);

  it('are the ones with seconds to spare: demo, peak-hour, rate-limited-account, flaky-reconnect, attachment-burst', () => {
    for (const f of ['demo.ts', 'peak-hour.ts', 'rate-limited-account.ts', 'flaky-reconnect.ts', 'attachment-burst.ts']) expect(shared).toContain(f);
  });

  for (const file of shared) {
    it(`${file}: its expected verdict on the correct reference server`, () => expectCleanRun(file, out()), 120_000);
  }
});
