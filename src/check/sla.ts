/**
 * SLA expressions: `delivery.p99 < 3s`, `delivery[image].p95 < 8s`, `loss == 0`.
 *
 *   sla       := metric ( '.' stat )? op number unit?
 *   metric    := segment ( '.' segment )*          e.g. delivery  history.page  duplicates.redelivery
 *   segment   := ident ( '[' name ']' | '{' name '}' | '@' ident )*
 *   stat      := count | p50 | p90 | p95 | p99 | p999 | max | mean     (a time stat needs a unit)
 *   op        := < | <= | > | >= | == | !=
 *   unit      := us | ms | s | m                    (times are normalised to milliseconds)
 *
 * Hand-written recursive descent: the grammar is one line long, and a parser library would add a
 * dependency while making the one thing users need — the exact 0-based column of a mistake and
 * what was expected there — harder to get, not easier.
 */
import { InvalidSlaError } from '../errors.ts';
import type { LatencySummary } from '../stats/hdr.ts';
import { CHECK_NAMES, type Verdict } from './types.ts';

export type SlaOp = '<' | '<=' | '>' | '>=' | '==' | '!=';

/** A parsed SLA. `value` is in milliseconds for time statistics, a plain number for counts. */
export interface Sla {
  expr: string;
  metric: string;
  stat: string | null;
  op: SlaOp;
  value: number;
}

/** One SLA judged against a verdict. `actual` null means no data: never a pass. */
export interface SlaResult {
  expr: string;
  actual: number | null;
  pass: boolean;
  note?: string;
}

const TIME_STATS: Record<string, Exclude<keyof LatencySummary, 'outOfRange' | 'count'>> = {
  p50: 'p50Ms',
  p90: 'p90Ms',
  p95: 'p95Ms',
  p99: 'p99Ms',
  p999: 'p999Ms',
  max: 'maxMs',
  mean: 'meanMs',
};
const STATS = ['count', ...Object.keys(TIME_STATS)];
const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };
const OPS: readonly SlaOp[] = ['<=', '>=', '==', '!=', '<', '>'];

const isIdentStart = (c: string | undefined): boolean => c !== undefined && /[A-Za-z_]/.test(c);
const isIdentChar = (c: string | undefined): boolean => c !== undefined && /[A-Za-z0-9_]/.test(c);
const isNameChar = (c: string | undefined): boolean => c !== undefined && /[A-Za-z0-9_:-]/.test(c);
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

/** Parse one SLA expression; throws {@link InvalidSlaError} with the 0-based column of the mistake. */
export function parseSla(expr: string): Sla {
  let i = 0;
  const fail = (expected: string, at = i): never => {
    throw new InvalidSlaError(expr, at, expected);
  };
  const skipWs = (): void => {
    while (expr[i] === ' ' || expr[i] === '\t') i++;
  };
  const ident = (what: string): string => {
    if (!isIdentStart(expr[i])) fail(what);
    const start = i;
    while (isIdentChar(expr[i])) i++;
    return expr.slice(start, i);
  };

  skipWs();
  const segments: { text: string; plain: string | null; start: number }[] = [];
  for (;;) {
    const start = i;
    const word = ident(segments.length === 0 ? 'a metric name (e.g. delivery, loss)' : 'a metric segment or statistic after "."');
    let hasSelector = false;
    for (;;) {
      const c = expr[i];
      if (c === '[' || c === '{') {
        const close = c === '[' ? ']' : '}';
        i++;
        const nameStart = i;
        while (isNameChar(expr[i])) i++;
        if (i === nameStart) fail(c === '[' ? 'a message kind inside [ ] (e.g. text, image)' : 'a network name inside { }');
        if (expr[i] !== close) fail(`"${close}"`);
        i++;
        hasSelector = true;
      } else if (c === '@') {
        i++;
        ident('a fault phase after "@" (steady, fault, recovery)');
        hasSelector = true;
      } else break;
    }
    segments.push({ text: expr.slice(start, i), plain: hasSelector ? null : word, start });
    if (expr[i] !== '.') break;
    i++;
  }
  let stat: string | null = null;
  const lastSeg = segments[segments.length - 1]!;
  if (segments.length > 1 && lastSeg.plain !== null && STATS.includes(lastSeg.plain)) {
    stat = lastSeg.plain;
    segments.pop();
  }
  const metric = segments.map((s) => s.text).join('.');

  skipWs();
  const op = OPS.find((o) => expr.startsWith(o, i));
  if (op === undefined) fail('a comparison operator (<, <=, >, >=, ==, !=)');
  i += op!.length;
  skipWs();

  const numStart = i;
  if (!isDigit(expr[i])) fail('a number');
  while (isDigit(expr[i])) i++;
  if (expr[i] === '.') {
    i++;
    if (!isDigit(expr[i])) fail('a digit after the decimal point');
    while (isDigit(expr[i])) i++;
  }
  let value = Number(expr.slice(numStart, i));

  const unitStart = i;
  while (expr[i] !== undefined && /[a-z]/i.test(expr[i]!)) i++;
  const unit = expr.slice(unitStart, i);
  const isTime = stat !== null && stat !== 'count';
  if (unit !== '') {
    if (!isTime) {
      fail(
        stat === null && !(CHECK_NAMES as readonly string[]).includes(metric)
          ? `end of expression: a time threshold needs a statistic (.p50, .p90, .p95, .p99, .p999, .max, .mean) after "${metric}"`
          : 'end of expression: counts take no unit',
        unitStart,
      );
    }
    const factor = UNIT_MS[unit];
    if (factor === undefined) fail('a unit: us, ms, s or m', unitStart);
    value *= factor!;
  } else if (isTime) {
    fail(`a unit after the number (us, ms, s or m): ${stat} is a time`, unitStart);
  }
  skipWs();
  if (i < expr.length) fail('end of expression');
  return { expr, metric, stat, op: op!, value };
}

function compare(actual: number, op: SlaOp, value: number): boolean {
  switch (op) {
    case '<':
      return actual < value;
    case '<=':
      return actual <= value;
    case '>':
      return actual > value;
    case '>=':
      return actual >= value;
    case '==':
      return actual === value;
    case '!=':
      return actual !== value;
  }
}

/**
 * Latency families the judge produces (see delay.ts; `history.preloaded.page`: pages showing
 * preloaded history, history.ts); only `delivery` has [kind], {network} and @phase splits.
 */
export const LATENCY_FAMILIES = ['delivery', 'ack', 'connect', 'reconnect', 'sync', 'history.page', 'history.preloaded.page'] as const;

/**
 * Check that an SLA names something the judge can produce, before a run starts: a misspelled
 * metric must be a usage error (exit 2), not a failed run after the fact. Throws InvalidSlaError.
 */
export function validateSlaMetric(sla: Sla): void {
  const base = sla.metric.split(/[[{@]/, 1)[0] as string;
  const latency = (LATENCY_FAMILIES as readonly string[]).includes(base);
  if (latency) {
    if (base !== 'delivery' && base !== sla.metric) {
      throw new InvalidSlaError(sla.expr, base.length, `no split after ${base} (only delivery has [kind], {network} and @phase)`);
    }
    if (sla.stat === null) {
      throw new InvalidSlaError(sla.expr, sla.metric.length, `a statistic after ${sla.metric}: .${STATS.join(', .')}`);
    }
    return;
  }
  const checkName = base.split('.', 1)[0] as string;
  if (!(CHECK_NAMES as readonly string[]).includes(checkName)) {
    throw new InvalidSlaError(
      sla.expr,
      0,
      `a known metric: ${LATENCY_FAMILIES.join(', ')} (latencies) or ${CHECK_NAMES.join(', ')} (anomaly counts)`,
    );
  }
  if (sla.stat !== null && sla.stat !== 'count') {
    throw new InvalidSlaError(sla.expr, sla.metric.length, `no time statistic on ${checkName}: it is a count (e.g. "${checkName} == 0")`);
  }
}

/** Resolve the number an SLA talks about, or why there is none. */
function actualOf(sla: Sla, verdict: Verdict): { actual: number } | { note: string } {
  const latency = verdict.metrics[sla.metric];
  if (sla.stat !== null && sla.stat !== 'count') {
    if (latency === undefined || latency.count === 0) return { note: `no data for metric ${sla.metric}` };
    return { actual: latency[TIME_STATS[sla.stat]!] };
  }
  if (latency !== undefined) {
    if (sla.stat === 'count') return { actual: latency.count };
    return { note: `${sla.metric} is a latency metric: name a statistic (${STATS.join(', ')})` };
  }
  const dot = sla.metric.indexOf('.');
  const checkName = dot < 0 ? sla.metric : sla.metric.slice(0, dot);
  const check = verdict.checks[checkName];
  if (check === undefined) {
    return { note: `unknown metric ${sla.metric}` };
  }
  if (check.status === 'not-checked') {
    return { note: `check ${checkName} was not checked${check.note !== undefined ? `: ${check.note}` : ''}` };
  }
  if (dot < 0) return { actual: check.count };
  const sub = sla.metric.slice(dot + 1);
  const v = check.metrics?.[sub];
  if (v === undefined) return { note: `check ${checkName} has no metric ${sub}` };
  return { actual: v };
}

/** Judge each SLA against a verdict. A metric without data fails with a note, never passes silently. */
export function evaluateSlas(slas: readonly Sla[], verdict: Verdict): SlaResult[] {
  return slas.map((sla) => {
    const r = actualOf(sla, verdict);
    if ('note' in r) return { expr: sla.expr, actual: null, pass: false, note: r.note };
    return { expr: sla.expr, actual: r.actual, pass: compare(r.actual, sla.op, sla.value) };
  });
}
