import { describe, expect, it } from 'vitest';
import { evaluateSlas, parseSla, validateSlaMetric } from '../../src/check/sla.ts';
import type { Verdict } from '../../src/check/types.ts';
import { InvalidSlaError } from '../../src/errors.ts';

function parseError(expr: string): InvalidSlaError {
  try {
    parseSla(expr);
  } catch (err) {
    if (err instanceof InvalidSlaError) return err;
    throw err;
  }
  throw new Error(`expected ${expr} to be rejected`);
}

describe('parseSla', () => {
  it.each([
    ['delivery.p99 < 3s', 'delivery', 'p99', '<', 3000],
    ['delivery[image].p95 < 8s', 'delivery[image]', 'p95', '<', 8000],
    ['delivery@fault.p99 < 20s', 'delivery@fault', 'p99', '<', 20_000],
    ['delivery{eu-customers}.p99<=1.5s', 'delivery{eu-customers}', 'p99', '<=', 1500],
    ['loss == 0', 'loss', null, '==', 0],
    ['duplicates.count <= 0', 'duplicates', 'count', '<=', 0],
    ['sync.p99 < 2s', 'sync', 'p99', '<', 2000],
    ['history.page.p95 < 500ms', 'history.page', 'p95', '<', 500],
    ['ack.p50 < 200ms', 'ack', 'p50', '<', 200],
    ['ack.max >= 250us', 'ack', 'max', '>=', 0.25],
    ['reconnect.p90 != 1m', 'reconnect', 'p90', '!=', 60_000],
    ['  duplicates.redelivery > 3 ', 'duplicates.redelivery', null, '>', 3],
  ] as const)('parses %s', (expr, metric, stat, op, value) => {
    expect(parseSla(expr)).toEqual({ expr, metric, stat, op, value });
  });

  it.each([
    ['', 0, /metric name/],
    ['delivery.p99 3s', 13, /comparison operator/],
    ['delivery.p99 < s', 15, /a number/],
    ['delivery.p99 < 3', 16, /unit/],
    ['delivery.p99 < 3h', 16, /unit: us, ms, s or m/],
    ['loss == 0s', 9, /counts take no unit/],
    ['history.page < 500ms', 18, /statistic/],
    ['delivery[image.p95 < 8s', 14, /"\]"/],
    ['delivery[].p95 < 8s', 9, /message kind/],
    ['delivery.p99 < 3s and', 18, /end of expression/],
    ['delivery. < 3s', 9, /metric segment/],
    ['loss == 1.', 10, /digit/],
  ])('rejects %j at column %i', (expr, position, expected) => {
    const err = parseError(expr);
    expect(err.code).toBe('CHATSTORM_ERR_INVALID_SLA');
    expect(err.position).toBe(position);
    expect(err.message).toMatch(expected);
  });
});

function verdict(): Verdict {
  const summary = (p: number) => ({ count: 10, p50Ms: p / 2, p90Ms: p * 0.9, p95Ms: p * 0.95, p99Ms: p, p999Ms: p, maxMs: p, meanMs: p / 2 });
  return {
    checks: {
      loss: { name: 'loss', status: 'pass', count: 0, witnesses: [] },
      duplicates: { name: 'duplicates', status: 'fail', count: 2, witnesses: [], metrics: { redelivery: 4 } },
      history: { name: 'history', status: 'not-checked', count: 0, witnesses: [], note: 'no page events' },
    },
    metrics: { delivery: summary(2500), 'delivery[image]': summary(9000), ack: summary(150) },
  };
}

describe('evaluateSlas', () => {
  it('compares latency statistics in milliseconds and counts as numbers', () => {
    const slas = ['delivery.p99 < 3s', 'delivery[image].p95 < 8s', 'loss == 0', 'duplicates.count <= 0', 'ack.p50 < 200ms', 'duplicates.redelivery < 5'].map(parseSla);
    expect(evaluateSlas(slas, verdict())).toEqual([
      { expr: 'delivery.p99 < 3s', actual: 2500, pass: true },
      { expr: 'delivery[image].p95 < 8s', actual: 8550, pass: false },
      { expr: 'loss == 0', actual: 0, pass: true },
      { expr: 'duplicates.count <= 0', actual: 2, pass: false },
      { expr: 'ack.p50 < 200ms', actual: 75, pass: true },
      { expr: 'duplicates.redelivery < 5', actual: 4, pass: true },
    ]);
  });

  it('fails with a note, never passes, when the metric has no data', () => {
    const [r] = evaluateSlas([parseSla('delivery@fault.p99 < 20s')], verdict());
    expect(r).toMatchObject({ actual: null, pass: false });
    expect(r!.note).toMatch(/no data/);
  });

  it('fails with a note when the check behind a count was not checked', () => {
    const [r] = evaluateSlas([parseSla('history == 0')], verdict());
    expect(r).toMatchObject({ actual: null, pass: false });
    expect(r!.note).toMatch(/not checked.*no page events/);
  });

  it('fails with a note on an unknown metric', () => {
    const [r] = evaluateSlas([parseSla('bogus == 0')], verdict());
    expect(r).toMatchObject({ actual: null, pass: false, note: 'unknown metric bogus' });
  });
});

describe('validateSlaMetric', () => {
  it.each(['delivery.p99 < 3s', 'delivery[image]@fault.p95 < 8s', 'delivery{eu-customers}.max < 20s', 'history.page.p95 < 500ms', 'loss == 0', 'duplicates.redelivery < 5', 'sync.p99 < 2s', 'duplicates.count <= 0'])(
    'accepts %s',
    (expr) => {
      expect(() => validateSlaMetric(parseSla(expr))).not.toThrow();
    },
  );

  it('rejects a misspelled metric at column 1, listing the known ones', () => {
    const err = (() => {
      try {
        validateSlaMetric(parseSla('delivry.p99 < 3s'));
      } catch (e) {
        return e as InvalidSlaError;
      }
      throw new Error('expected a rejection');
    })();
    expect(err).toBeInstanceOf(InvalidSlaError);
    expect(err.code).toBe('CHATSTORM_ERR_INVALID_SLA');
    expect(err.position).toBe(0);
    expect(err.message).toContain('a known metric: delivery, ack');
  });

  it('rejects a latency without a statistic, pointing after the metric', () => {
    expect(() => validateSlaMetric(parseSla('delivery < 3'))).toThrow(/column 9: expected a statistic after delivery/);
  });

  it('rejects a time statistic on an anomaly count', () => {
    expect(() => validateSlaMetric(parseSla('loss.p99 < 3s'))).toThrow(/no time statistic on loss/);
  });

  it('rejects a split on a family that has none', () => {
    expect(() => validateSlaMetric(parseSla('ack[text].p99 < 3s'))).toThrow(/only delivery has/);
  });
});
