/**
 * capacity.json: the versioned result of a capacity search (schema 1; later versions add fields,
 * never rename one), its one-line answer and its console table. Presentation only: nothing here
 * judges a probe.
 */
import { fmtRate, type CapacityAnswer, type SearchStep } from './search.ts';
import type { ProbeFigures } from './probe.ts';

export const CAPACITY_SCHEMA = 1;

/** File names inside a capacity run folder. */
export const CAPACITY_FILES = { json: 'capacity.json', html: 'capacity.html' } as const;

export interface CapacityReport {
  schema: number;
  kind: 'chatstorm-capacity';
  runId: string;
  scenario: string;
  seed: number;
  startedAt: string;
  target: string | null;
  options: {
    startPerS: number;
    maxPerS: number;
    growth: number;
    resolution: number;
    budgetMs: number;
    probeDurationMs: number;
    probeGraceMs: number;
    /** SLAs every probe is judged by (the scenario's, merged with --sla). */
    sla: string[];
  };
  answer: CapacityAnswer;
  /** The answer in one sentence. */
  headline: string;
  stoppedBecause: string;
  elapsedMs: number;
  exitCode: number;
  /** Each probe in the order run, with the search phase that chose its rate. */
  probes: (ProbeFigures & { phase: SearchStep['phase'] })[];
}

/** The answer in one sentence. */
export function headlineOf(a: CapacityAnswer): string {
  const r = (x: number) => `${fmtRate(x)} msg/s`;
  switch (a.kind) {
    case 'knee':
      return `knee: passes at ${r(a.kneePerS)}, breaks at ${r(a.brokeAtPerS)}${a.resolved ? '' : ' (bracket wider than the resolution: the budget ended the search)'}; first broken: ${a.broken.join('; ') || 'unknown'}`;
    case 'max-rate-passed':
      return `passes at the maximum rate asked for, ${r(a.kneePerS)}: the knee is higher (raise --max-rate)`;
    case 'limited':
      return `at least ${r(a.atLeastPerS)}: ${r(a.limitedAtPerS)} could not be offered (${a.reason}); no knee found below it`;
    case 'budget':
      return `at least ${r(a.atLeastPerS)}: the budget ended the search before any probe broke (raise --budget or --start-rate)`;
    case 'fails-at-lowest':
      return `fails even at the lowest rate, ${r(a.ratePerS)}: ${a.broken.join('; ')} (lower --start-rate)`;
    case 'limited-at-lowest':
      return `even the lowest rate, ${r(a.ratePerS)}, could not be offered: ${a.reason}`;
    case 'aborted':
      return `search ended (${a.cause}): ${a.reason}${a.atLeastPerS === null ? '' : `; passed up to ${r(a.atLeastPerS)} before that`}`;
  }
}

const ms = (v: number | null) => (v === null ? '-' : v >= 1000 ? `${(v / 1000).toFixed(2)}s` : `${v.toFixed(0)}ms`);
const rate = (v: number | null) => (v === null ? '-' : fmtRate(v));

/** The console table of probes and the answer. */
export function renderCapacityConsole(rep: CapacityReport): string {
  const head = ['#', 'phase', 'target/s', 'offered/s', 'sent/s', 'deliv p50', 'deliv p99', 'ack p99', 'verdict', 'failed'];
  const rows = rep.probes.map((p) => [
    String(p.index),
    p.phase,
    rate(p.targetPerS),
    rate(p.offeredPerS),
    p.achievedSendPerS === null ? '-' : `${rate(p.achievedSendPerS)} (${p.plannedSends ? Math.round((100 * (p.sent ?? 0)) / p.plannedSends) : 0}%)`,
    ms(p.deliveryP50Ms),
    ms(p.deliveryP99Ms),
    ms(p.ackP99Ms),
    p.verdict.toUpperCase(),
    [...p.failedSlas, ...p.failedChecks.map((c) => `check ${c}`)].join(', ') || (p.verdict === 'pass' ? '' : p.reasons[0] ?? ''),
  ]);
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(width[i] as number))).join('  ').trimEnd();
  return [
    `capacity of ${rep.scenario} (${rep.probes.length} probe${rep.probes.length === 1 ? '' : 's'} in ${(rep.elapsedMs / 1000).toFixed(0)} s)`,
    '',
    line(head),
    ...rows.map(line),
    '',
    rep.headline,
    `stopped: ${rep.stoppedBecause}`,
  ].join('\n');
}
