import { describe, expect, it } from 'vitest';
import { renderJunit } from '../../src/report/junit.ts';
import { summarize } from '../../src/cli/summarize.ts';
import { compareToBaseline, gateOnBaseline } from '../../src/report/baseline.ts';
import { parseSla, type CheckResult, type Verdict } from '../../src/check/index.ts';
import { junitErrors } from './junit-xsd.ts';

const check = (name: string, status: CheckResult['status'] = 'pass', count = 0): CheckResult => ({ name, status, count, witnesses: [] });
const lat = { count: 10, p50Ms: 5, p90Ms: 9, p95Ms: 9, p99Ms: 9, p999Ms: 9, maxMs: 9, meanMs: 5 };

function summary(over: { checks?: CheckResult[]; infraError?: string | null; startedAt?: string | null; slas?: string[] } = {}) {
  const checks = over.checks ?? [check('loss'), check('duplicates'), check('ordering')];
  const verdict: Verdict = { checks: Object.fromEntries(checks.map((c) => [c.name, c])), metrics: { delivery: lat } };
  return summarize({
    verdict,
    slas: (over.slas ?? []).map(parseSla),
    infraError: over.infraError ?? null,
    run: { runId: 'r1', scenario: 'demo <&>', seed: 3, startedAt: over.startedAt === undefined ? '2026-11-30T16:33:31.992Z' : over.startedAt, endReason: 'complete' },
    harness: null,
    target: null,
    toxiproxy: null,
    faults: [],
  });
}

describe('junit.xml against the common JUnit schema (docs/junit.xsd)', () => {
  it('is valid for a passing run with SLAs', async () => {
    expect(await junitErrors(renderJunit(summary({ slas: ['delivery.p99 < 3s', 'loss == 0'] })))).toEqual([]);
  });

  it('is valid for failed checks whose witnesses hold markup and control characters, and skipped checks', async () => {
    const loss = { ...check('loss', 'fail', 2), witnesses: [{ summary: 'c1 never received <a&b> "x"\u0001\u001f', trail: [] }] };
    const xml = renderJunit(summary({ checks: [loss, check('duplicates'), check('ordering'), { ...check('integrity', 'not-checked'), note: 'no attachments' }], slas: ['delivery.p99 < 1ms'] }));
    expect(xml).toContain('<failure');
    expect(xml).toContain('<skipped');
    expect(await junitErrors(xml)).toEqual([]);
  });

  it('is valid for an error verdict of a run that never started (no start time)', async () => {
    const xml = renderJunit(summary({ infraError: 'chat server at ws://127.0.0.1:1 is unreachable', startedAt: null }));
    expect(xml).toContain('<error');
    expect(xml).not.toContain('timestamp=');
    expect(await junitErrors(xml)).toEqual([]);
  });

  it('is valid with the baseline test cases', async () => {
    const s = summary();
    const b = compareToBaseline(s, { path: 'b.json', runId: 'old', startedAt: null, delivery: { p50Ms: 1, p90Ms: 1, p99Ms: 1 }, deliveredPerS: null }, 10);
    const xml = renderJunit(gateOnBaseline(s, b));
    expect(xml).toContain('classname="chatstorm.baseline"');
    expect(await junitErrors(xml)).toEqual([]);
  });

  it('the schema refuses what CI parsers choke on (so the checks above can fail)', async () => {
    const good = renderJunit(summary());
    expect((await junitErrors(good.replace('name="loss"', ''))).join('\n')).toMatch(/attribute 'name' is required/);
    expect((await junitErrors(good.replace('tests="3"', 'tests="three"'))).length).toBeGreaterThan(0);
    expect((await junitErrors(good.replace('2026-11-30T16:33:31.992Z', ''))).join('\n')).toMatch(/timestamp/);
  });
});
