/**
 * CI for the incident library, second half: every shipped scenario (scenarios/*.ts) in quick mode
 * against the reference server with the scenario's defect fails on exactly its expected check,
 * and no other check fails. The first half (correct server, expected verdict) is
 * incidents-clean.e2e.test.ts (test/e2e/incidents.ts says why they are two files).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectationsOf, failingChecks, runQuick, SCENARIO_FILES, useRunsFolder } from './incidents.ts';

describe('shipped scenarios in quick mode, on the reference server with their defect', () => {
  const out = useRunsFolder('incidents-defect');

  for (const file of SCENARIO_FILES) {
    it(`${file}: fails on exactly its expected check with its defect`, async () => {
      const e = await expectationsOf(file);
      expect(e, `${file} has no \`export const expectations\``).toBeDefined();
      const r = await runQuick(file, join(out(), `${file}-${e!.defect.name}`), e!.defect);
      expect(r.fired[e!.defect.name] ?? 0, `${e!.defect.name} never fired: the scenario gave it no opportunity`).toBeGreaterThan(0);
      expect(r.summary.error).toBeNull();
      expect(r.summary.verdict).toBe('fail');
      expect(r.exitCode).toBe(1);
      expect(failingChecks(r)).toEqual([e!.defect.check]);
      const failed = r.summary.checks[e!.defect.check]!;
      expect(failed.count).toBeGreaterThan(0);
      expect(failed.witnesses.length).toBeGreaterThan(0);
      expect(r.summary.reasons).toContainEqual(expect.stringMatching(new RegExp(`^check ${e!.defect.check} failed: \\d+ anomal`)));
    }, 120_000);
  }

  // The second history defect of the reference server only shows on long histories: the
  // preloaded one of history-heavy is where a months-old cut-off can be seen at all.
  it('history-heavy.ts: fails on exactly the history check with history-cutoff (old history gone), which only a preload reveals', async () => {
    const r = await runQuick('history-heavy.ts', join(out(), 'history-heavy.ts-history-cutoff'), { name: 'history-cutoff', rate: 0.3 });
    expect(r.fired['history-cutoff'] ?? 0).toBeGreaterThan(0);
    expect(r.summary.error).toBeNull();
    expect(r.exitCode).toBe(1);
    expect(failingChecks(r)).toEqual(['history']);
    const history = r.summary.checks.history!;
    expect(history.metrics?.['preloadedUnshown']).toBeGreaterThan(0);
    expect(history.witnesses.map((w) => w.summary)).toContainEqual(expect.stringMatching(/^page of dm\d+ .*: missing stored seq\(s\) /));
  }, 120_000);
});
