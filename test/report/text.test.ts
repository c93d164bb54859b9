import { describe, expect, it } from 'vitest';
import { renderConsole, renderMarkdown } from '../../src/report/text.ts';
import { renderJunit } from '../../src/report/junit.ts';
import { renderHtml } from '../../src/report/html.ts';
import { formatMs, formatSlaActual } from '../../src/report/units.ts';
import { summarize } from '../../src/cli/summarize.ts';
import { parseSla, type CheckResult, type Verdict } from '../../src/check/index.ts';

const check = (name: string): CheckResult => ({ name, status: 'pass', count: 0, witnesses: [] });
const lat = (p99Ms: number) => ({ count: 10, p50Ms: 1, p90Ms: 2, p95Ms: 3, p99Ms, p999Ms: p99Ms, maxMs: p99Ms, meanMs: 1 });

function summaryWith(slas: string[], p99Ms: number) {
  const verdict: Verdict = { checks: { loss: check('loss'), duplicates: check('duplicates'), ordering: check('ordering') }, metrics: { delivery: lat(p99Ms) } };
  return summarize({
    verdict,
    slas: slas.map(parseSla),
    infraError: null,
    run: { runId: 'r', scenario: 's', seed: 1, startedAt: null, endReason: 'complete' },
    harness: null,
    target: null,
    toxiproxy: null,
    faults: [],
  });
}

describe('formatMs', () => {
  it('shows seconds from one second up and milliseconds below', () => {
    expect(formatMs(1522.687)).toBe('1.52s');
    expect(formatMs(439.039)).toBe('439ms');
    expect(formatMs(3.61)).toBe('3.6ms');
  });
});

describe('formatSlaActual', () => {
  it('gives a time statistic its unit and leaves a count plain', () => {
    expect(formatSlaActual({ expr: 'delivery.p99 < 3s', actual: 1522.687 })).toBe('1.52s');
    expect(formatSlaActual({ expr: 'loss == 0', actual: 3 })).toBe('3');
    expect(formatSlaActual({ expr: 'delivery.count > 5', actual: 1522 })).toBe('1522');
    expect(formatSlaActual({ expr: 'delivery.p99 < 3s', actual: null })).toBe('no data');
  });
});

describe('SLA actuals in the renderings', () => {
  const s = summaryWith(['delivery.p99 < 1s', 'loss == 0'], 1522.687);
  it('prints the console SLA lines with units, never the raw milliseconds', () => {
    const out = renderConsole(s);
    expect(out).toContain('FAIL         delivery.p99 < 1s   (actual 1.52s)');
    expect(out).toContain('PASS         loss == 0   (actual 0)');
    expect(out).not.toContain('(actual 1522.687');
  });
  it('uses the same units in Markdown, JUnit and HTML', () => {
    expect(renderMarkdown(s)).toContain('| `delivery.p99 < 1s` | 1.52s | FAIL |');
    expect(renderJunit(s)).toContain('message="actual 1.52s"');
    expect(renderHtml(s)).toContain('<td>1.52s</td>');
  });
});
