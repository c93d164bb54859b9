import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareToBaseline, gateOnBaseline, loadBaseline, parseRegression, type BaselineRun } from '../../src/report/baseline.ts';
import { renderConsole, renderMarkdown } from '../../src/report/text.ts';
import { renderJunit } from '../../src/report/junit.ts';
import { renderHtml } from '../../src/report/html.ts';
import { summarize } from '../../src/cli/summarize.ts';
import { UsageError } from '../../src/errors.ts';
import type { CheckResult, Verdict } from '../../src/check/index.ts';
import type { Summary } from '../../src/report/summary.ts';
import { expectValidSummary } from './summary-schema.ts';

const check = (name: string): CheckResult => ({ name, status: 'pass', count: 0, witnesses: [] });
const lat = (p50Ms: number, p90Ms: number, p99Ms: number) => ({ count: 100, p50Ms, p90Ms, p95Ms: p99Ms, p99Ms, p999Ms: p99Ms, maxMs: p99Ms, meanMs: p50Ms });

function summaryOf(p99Ms: number, deliveredPerS: number, infraError: string | null = null): Summary {
  const verdict: Verdict = { checks: { loss: check('loss'), duplicates: check('duplicates'), ordering: check('ordering') }, metrics: { delivery: lat(20, 100, p99Ms) } };
  const s = summarize({
    verdict,
    slas: [],
    infraError,
    run: { runId: 'now', scenario: 's', seed: 1, startedAt: null, endReason: 'complete' },
    harness: null,
    target: null,
    toxiproxy: null,
    faults: [],
  });
  return { ...s, throughput: { sent: 100, delivered: deliveredPerS * 10, windowMs: 10_000, sentPerS: 10, deliveredPerS } };
}

const base: BaselineRun = { path: 'old/summary.json', runId: 'old-run', startedAt: null, delivery: { p50Ms: 20, p90Ms: 100, p99Ms: 1000 }, deliveredPerS: 30 };

describe('parseRegression', () => {
  it('reads a percentage with or without the sign', () => {
    expect(parseRegression('--max-regression', '10%')).toBe(10);
    expect(parseRegression('--max-regression', '2.5')).toBe(2.5);
  });
  it.each(['ten', '0%', '-5%', '10%%', ''])('refuses %j with a usage error naming the flag', (bad) => {
    let err: unknown;
    try {
      parseRegression('--max-regression', bad);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).code).toBe('CHATSTORM_ERR_USAGE');
    expect((err as UsageError).message).toBe(`--max-regression must be a percentage above 0 such as 10%, got ${JSON.stringify(bad)}`);
  });
});

describe('loadBaseline', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'chatstorm-baseline-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const file = async (name: string, body: string) => {
    const p = join(dir, name);
    await writeFile(p, body);
    return p;
  };

  it('reads the delay percentiles and the throughput of a summary', async () => {
    const p = await file('ok.json', JSON.stringify({ ...summaryOf(900, 25), runId: 'r0' }));
    expect(await loadBaseline(p)).toEqual({ path: p, runId: 'r0', startedAt: null, delivery: { p50Ms: 20, p90Ms: 100, p99Ms: 900 }, deliveredPerS: 25 });
  });

  it('accepts a summary written before throughput existed, without a throughput to compare', async () => {
    const { throughput: _, ...old } = summaryOf(900, 25);
    const p = await file('old.json', JSON.stringify(old));
    expect((await loadBaseline(p)).deliveredPerS).toBeNull();
  });

  it.each([
    ['missing', null, /^--baseline \S+missing\.json: cannot read the file \(ENOENT\); pass the summary\.json of an earlier run/],
    ['notjson', '{ nope', /^--baseline \S+ is not JSON/],
    ['array', '[]', /is not a chatstorm summary\.json: expected a JSON object$/],
    ['schema', JSON.stringify({ schema: 2, runId: 'x', metrics: {} }), /is not a chatstorm summary\.json: expected "schema": 1, got 2$/],
    ['metrics', JSON.stringify({ schema: 1, runId: 'x' }), /expected a "metrics" object$/],
    ['empty', JSON.stringify({ schema: 1, runId: 'x', metrics: {} }), /has no deliveries to compare with \(run x delivered nothing\)/],
  ])('refuses a %s file with a usage error naming --baseline', async (name, body, message) => {
    const p = body === null ? join(dir, `${name}.json`) : await file(`${name}.json`, body);
    const err = await loadBaseline(p).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).message).toMatch(message);
  });
});

describe('compareToBaseline and gateOnBaseline', () => {
  it('passes a run within the allowed regression and shows the signed change', () => {
    const b = compareToBaseline(summaryOf(1099, 28), base, 10);
    expect(b.status).toBe('pass');
    expect(b.comparisons.find((c) => c.metric === 'delivery.p99')).toMatchObject({ baseline: 1000, current: 1099, changePct: 9.9, status: 'pass' });
    expect(b.comparisons.find((c) => c.metric === 'throughput.deliveredPerS')).toMatchObject({ changePct: -6.67, status: 'pass' });
    const s = gateOnBaseline(summaryOf(1099, 28), b);
    expect(s.verdict).toBe('pass');
    expectValidSummary(s);
  });

  it('fails a run whose p99 rose beyond the limit, with a reason giving both values', () => {
    const s = gateOnBaseline(summaryOf(1520, 30), compareToBaseline(summaryOf(1520, 30), base, 10));
    expect(s.verdict).toBe('fail');
    expect(s.reasons).toEqual(['baseline: delivery.p99 rose +52.0% (1.52s vs 1.00s in old-run), more than the 10% allowed']);
    expectValidSummary(s);
  });

  it('fails a run whose delivered throughput fell beyond the limit', () => {
    const s = gateOnBaseline(summaryOf(1000, 20), compareToBaseline(summaryOf(1000, 20), base, 10));
    expect(s.verdict).toBe('fail');
    expect(s.reasons).toEqual(['baseline: throughput.deliveredPerS fell -33.3% (20.0/s vs 30.0/s in old-run), more than the 10% allowed']);
  });

  it('does not count a faster run as a regression', () => {
    expect(compareToBaseline(summaryOf(100, 60), base, 10).status).toBe('pass');
  });

  it('says not checked, never pass, where either side has no value', () => {
    const b = compareToBaseline(summaryOf(1000, 30), { ...base, delivery: null }, 10);
    expect(b.comparisons.filter((c) => c.status === 'not-checked').map((c) => c.metric)).toEqual(['delivery.p50', 'delivery.p90', 'delivery.p99']);
    const none = compareToBaseline({ metrics: {}, throughput: null }, base, 10);
    expect(none.status).toBe('not-checked');
    expect(none.comparisons.every((c) => c.status === 'not-checked' && c.note === 'this run has no value')).toBe(true);
  });

  it('keeps an error verdict an error', () => {
    const s = summaryOf(5000, 30, 'harness overloaded');
    const g = gateOnBaseline(s, compareToBaseline(s, base, 10));
    expect(g.verdict).toBe('error');
    expect(g.baseline?.status).toBe('fail');
  });
});

describe('the reports show both runs side by side', () => {
  const s = gateOnBaseline(summaryOf(1520, 30), compareToBaseline(summaryOf(1520, 30), base, 10));
  it('in the console', () => {
    const out = renderConsole(s);
    expect(out).toContain('baseline old-run (old/summary.json), max regression 10%');
    expect(out).toMatch(/FAIL +delivery\.p99 +1\.00s +1\.52s +\+52\.0%/);
    expect(out).toMatch(/PASS +throughput\.deliveredPerS +30\.0\/s +30\.0\/s +0\.0%/);
  });
  it('in Markdown', () => {
    expect(renderMarkdown(s)).toContain('| delivery.p99 | 1.00s | 1.52s | +52.0% | FAIL |');
  });
  it('in JUnit, one test case per compared metric', () => {
    const xml = renderJunit(s);
    expect(xml).toContain('<testcase classname="chatstorm.baseline" name="delivery.p99 within 10% of old-run">');
    expect(xml).toContain('<failure message="this run 1.52s, baseline 1.00s (+52.0%)" type="baseline"/>');
    expect(xml).toMatch(/tests="7" failures="1"/);
  });
  it('in HTML', () => {
    expect(renderHtml(s)).toContain('<tr class="fail"><td>delivery.p99</td><td>1.00s</td><td>1.52s</td><td>+52.0%</td><td>FAIL</td></tr>');
  });
});
