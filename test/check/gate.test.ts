import { describe, expect, it } from 'vitest';
import { decide, exitCodeOf, gate, type CheckResult, type Verdict } from '../../src/check/index.ts';
import { parseSla } from '../../src/check/sla.ts';

const check = (name: string, status: CheckResult['status'], count = 0): CheckResult => ({ name, status, count, witnesses: [] });
const verdictOf = (...checks: CheckResult[]): Verdict => ({ checks: Object.fromEntries(checks.map((c) => [c.name, c])), metrics: {} });
const core = (status: CheckResult['status'] = 'pass') => [check('loss', status), check('duplicates', status), check('ordering', status)];

describe('decide', () => {
  it('passes when every check passes or could not apply and every SLA holds', () => {
    const d = decide(verdictOf(...core(), check('integrity', 'not-checked')), [{ expr: 'loss == 0', actual: 0, pass: true }], null);
    expect(d).toEqual({ verdict: 'pass', reasons: [] });
    expect(exitCodeOf(d.verdict)).toBe(0);
  });

  it('fails with a reason per failed check and SLA', () => {
    const d = decide(verdictOf(check('loss', 'fail', 3), check('duplicates', 'pass'), check('ordering', 'pass')), [{ expr: 'delivery.p99 < 3s', actual: 4000, pass: false }], null);
    expect(d.verdict).toBe('fail');
    expect(d.reasons).toEqual(['check loss failed: 3 anomalies', 'SLA delivery.p99 < 3s failed: actual 4000']);
    expect(exitCodeOf(d.verdict)).toBe(1);
  });

  it('never passes a run whose core checks did not run', () => {
    const d = decide(verdictOf(...core('not-checked')), [], null);
    expect(d.verdict).toBe('error');
    expect(d.reasons[0]).toContain('loss could not run');
    expect(exitCodeOf(d.verdict)).toBe(3);
  });

  it('reports a harness failure as error even when checks failed', () => {
    expect(decide(verdictOf(check('loss', 'fail', 1)), [], 'harness overloaded').verdict).toBe('error');
  });
});

describe('gate', () => {
  it('judges the SLAs against the verdict and fails on a broken one', () => {
    const g = gate({ verdict: verdictOf(...core()), slas: [parseSla('loss == 0'), parseSla('duplicates > 0')], infraError: null, endReason: 'complete' });
    expect(g.sla.map((s) => [s.expr, s.pass])).toEqual([['loss == 0', true], ['duplicates > 0', false]]);
    expect(g).toMatchObject({ verdict: 'fail', error: null });
  });

  it('turns a run that did not end complete into an error naming how it ended', () => {
    const g = gate({ verdict: verdictOf(...core()), slas: [], infraError: null, endReason: 'interrupted' });
    expect(g).toMatchObject({ verdict: 'error', error: 'run ended early: interrupted', reasons: ['run ended early: interrupted'] });
  });

  it('keeps the infrastructure error it is given over the end reason', () => {
    const g = gate({ verdict: verdictOf(...core()), slas: [], infraError: 'proxy gone', endReason: 'error' });
    expect(g).toMatchObject({ verdict: 'error', error: 'proxy gone' });
  });
});

describe('decide with a driver that cannot support a required check', () => {
  it('does not require a check the driver declared unsupported, but still one that merely had no data', () => {
    const ordering: CheckResult = { ...check('ordering', 'not-checked'), unsupported: true, note: "driver x gives no ordering positions (capabilities.ordering: 'none')" };
    expect(decide(verdictOf(check('loss', 'pass'), check('duplicates', 'pass'), ordering), [], null)).toEqual({ verdict: 'pass', reasons: [] });
    expect(decide(verdictOf(check('loss', 'pass'), check('duplicates', 'not-checked'), ordering), [], null).verdict).toBe('error');
  });
});
