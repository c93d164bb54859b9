import { describe, expect, it } from 'vitest';
import type { Summary } from '../../src/report/summary.ts';
import { renderJunit } from '../../src/report/junit.ts';
import { summarize } from '../../src/cli/summarize.ts';
import type { CheckResult, Verdict } from '../../src/check/index.ts';
import { expectValidSummary } from './summary-schema.ts';

const check = (name: string, status: CheckResult['status'], count = 0): CheckResult => ({ name, status, count, witnesses: [] });
const verdictOf = (...checks: CheckResult[]): Verdict => ({ checks: Object.fromEntries(checks.map((c) => [c.name, c])), metrics: {} });
const core = (status: CheckResult['status'] = 'pass') => [check('loss', status), check('duplicates', status), check('ordering', status)];

// The gate's own tests (decide, exit codes) are in test/check/gate.test.ts.

describe('renderJunit', () => {
  it('has one test case per check and SLA, marks not-checked as skipped and escapes witnesses', () => {
    const s = {
      verdict: 'fail',
      reasons: [],
      scenario: 'demo',
      runId: 'r1',
      seed: 1,
      startedAt: null,
      error: null,
      endReason: 'complete',
      checks: {
        loss: { ...check('loss', 'fail', 1), witnesses: [{ summary: 'key <a&b> lost', trail: [] }] },
        integrity: check('integrity', 'not-checked'),
      },
      sla: [{ expr: 'delivery.p99 < 3s', actual: 10, pass: true }],
    } as unknown as Summary;
    const xml = renderJunit(s);
    expect(xml).toContain('tests="3" failures="1" errors="0" skipped="1"');
    expect(xml).toContain('key &lt;a&amp;b&gt; lost');
    expect(xml).toContain('<skipped message="not checked"/>');
    expect(xml).toContain('name="delivery.p99 &lt; 3s"');
  });

  it('reports an error verdict as a JUnit error even when no harness error was recorded', () => {
    const s = {
      verdict: 'error',
      reasons: ['required check loss could not run: no sends in the run'],
      scenario: 'demo',
      runId: 'r1',
      seed: 1,
      startedAt: null,
      error: null,
      endReason: 'complete',
      checks: { loss: check('loss', 'not-checked'), duplicates: check('duplicates', 'not-checked'), ordering: check('ordering', 'not-checked') },
      sla: [],
    } as unknown as Summary;
    const xml = renderJunit(s);
    expect(xml).toContain('errors="1"');
    expect(xml).toContain('<error message="required check loss could not run: no sends in the run"');
  });
});

describe('summarize', () => {
  const base = {
    verdict: verdictOf(...core()),
    slas: [],
    infraError: null,
    harness: null,
    target: null,
    toxiproxy: null,
    faults: [],
  };
  it('turns a run that did not end complete into an error, whatever the checks say', () => {
    const s = summarize({ ...base, verdict: verdictOf(check('loss', 'fail', 2), check('duplicates', 'pass'), check('ordering', 'pass')), run: { runId: 'r', scenario: 's', seed: 1, startedAt: null, endReason: 'interrupted' } });
    expect(s.verdict).toBe('error');
    expect(s.error).toBe('run ended early: interrupted');
    expect(s.reasons).toEqual(['run ended early: interrupted']);
    expectValidSummary(s);
  });

  it('passes a complete clean run', () => {
    const s = summarize({ ...base, run: { runId: 'r', scenario: 's', seed: 1, startedAt: null, endReason: 'complete' } });
    expect(s.verdict).toBe('pass');
    expect(s.error).toBeNull();
    expect(s.schema).toBe(1);
    expectValidSummary(s);
  });
});
