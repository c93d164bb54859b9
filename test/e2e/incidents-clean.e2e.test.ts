/**
 * CI for the incident library, first half: every shipped scenario (scenarios/*.ts) in quick mode
 * against the correct reference server reaches its expected verdict (and shows the nacks it
 * must show). The release gate (`ci-smoke`) runs exactly as a CI job runs it, through the command
 * line (`chatstorm run scenarios/ci-smoke.ts --quick`, built-in server in a child process). The
 * other half, each scenario with its defect, is incidents-defect.e2e.test.ts (test/e2e/incidents.ts
 * says why they are two files).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPORT_FILES } from '../../src/report/write.ts';
import { QUICK_DURATION_MS } from '../../src/scenario/index.ts';
import { expectationsOf, failingChecks, runQuick, runQuickCli, SCENARIO_FILES, useRunsFolder, VIA_CLI } from './incidents.ts';

describe('shipped scenarios in quick mode, on the correct reference server', () => {
  const out = useRunsFolder('incidents-clean');

  it('include the incident library, each with machine-readable expectations', async () => {
    for (const name of ['cross-border-peak', 'attachment-burst', 'multi-device-unread', 'history-heavy', 'group-storm', 'rate-limited-account', 'flaky-reconnect', 'ci-smoke']) {
      expect(SCENARIO_FILES).toContain(`${name}.ts`);
    }
    for (const f of SCENARIO_FILES) {
      expect(await expectationsOf(f), `${f} has no \`export const expectations\``).toBeDefined();
    }
  });

  for (const file of SCENARIO_FILES) {
    it(`${file}: its expected verdict on the correct reference server`, async () => {
      const e = (await expectationsOf(file))!;
      const r = file === VIA_CLI ? await runQuickCli(file, join(out(), `${file}-clean`)) : await runQuick(file, join(out(), `${file}-clean`));
      expect(r.summary.error).toBeNull();
      // It ran in quick mode (the full send windows are 20 s to 2m30s).
      const plan = JSON.parse(await readFile(join(r.dir, REPORT_FILES.plan), 'utf8')) as { sendWindowMs: number; preloads?: { messages: number; swept: boolean }[] };
      expect(plan.sendWindowMs).toBeLessThanOrEqual(QUICK_DURATION_MS);
      if (plan.preloads !== undefined) {
        // A scenario that preloads history (history-heavy): all of it was created, and with a
        // sweep every preloaded message was shown in a page, in quick mode too.
        const history = r.summary.checks.history!;
        const messages = plan.preloads.reduce((n, p) => n + p.messages, 0);
        expect(messages).toBeGreaterThanOrEqual(100_000);
        expect(history.metrics).toMatchObject({ preloadedConversations: plan.preloads.length, preloadedMessages: messages });
        if (plan.preloads.every((p) => p.swept)) expect(history.metrics?.['preloadedUnshown']).toBe(0);
        expect(r.summary.metrics['history.preloaded.page']?.count ?? 0).toBeGreaterThan(0);
      }
      expect(r.summary.verdict, r.summary.reasons.join('; ')).toBe(e.verdict);
      expect(r.exitCode).toBe(e.verdict === 'pass' ? 0 : 1);
      if (e.verdict === 'pass') expect(failingChecks(r)).toEqual([]);
      for (const code of e.nacks ?? []) {
        const events = (await readFile(join(r.dir, REPORT_FILES.history), 'utf8'))
          .split('\n')
          .filter((line) => line.length > 0)
          .map((line) => JSON.parse(line) as { type: string; code?: string });
        const nacks = events.filter((ev) => ev.type === 'nack' && ev.code === code).length;
        expect(nacks, `no nack ${code} in the run: the scenario did not reach the condition it is about`).toBeGreaterThan(0);
      }
    }, 120_000);
  }
});
