/**
 * Human-readable renderings of a summary: the console block and the Markdown summary for CI job
 * pages. Both only read the summary; neither recomputes anything.
 */
import type { Summary } from './summary.ts';
import type { LatencySummary } from '../stats/hdr.ts';
import { formatMs as ms, formatSlaActual } from './units.ts';
import { formatBaselineValue, formatChange } from './baseline.ts';
import { harnessLagLine, inflatedMark } from './harness-lag.ts';

const MARK = { pass: 'PASS', fail: 'FAIL', 'not-checked': 'NOT CHECKED' } as const;

function latencyLine(name: string, l: LatencySummary): string {
  return `${name.padEnd(22)} n=${String(l.count).padEnd(7)} p50 ${ms(l.p50Ms).padEnd(8)} p90 ${ms(l.p90Ms).padEnd(8)} p99 ${ms(l.p99Ms).padEnd(8)} p99.9 ${ms(l.p999Ms).padEnd(8)} max ${ms(l.maxMs)}`;
}

/** Metric families shown by default (the rest are in summary.json). */
function shownMetrics(s: Summary): [string, LatencySummary][] {
  return Object.entries(s.metrics)
    .filter(([k, v]) => v.count > 0 && !k.includes('{'))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

export function renderConsole(s: Summary): string {
  const lines: string[] = [];
  lines.push(`chatstorm ${s.scenario} seed=${s.seed} run=${s.runId}`);
  lines.push('');
  lines.push('checks');
  for (const c of Object.values(s.checks)) {
    lines.push(`  ${MARK[c.status].padEnd(12)} ${c.name.padEnd(11)} ${c.status === 'fail' ? `${c.count} anomalies` : (c.note ?? '')}`);
    if (c.status === 'fail') for (const w of c.witnesses.slice(0, 3)) lines.push(`      - ${w.summary}`);
  }
  const metrics = shownMetrics(s);
  if (metrics.length > 0) {
    lines.push('');
    lines.push('latency (from intended send time)');
    for (const [k, v] of metrics) {
      const mark = inflatedMark(s.harnessLag, k, ms);
      lines.push('  ' + latencyLine(k, v) + (mark ? `   (${mark})` : ''));
    }
    lines.push('  ' + harnessLagLine(s.harnessLag, ms));
    const odd = metrics.filter(([, v]) => (v.outOfRange ?? 0) > 0);
    for (const [k, v] of odd) lines.push(`  warning: ${k} had ${v.outOfRange} out-of-range value(s) (negative, non-finite or above the bound): a clock or driver bug`);
  }
  if (s.sla.length > 0) {
    lines.push('');
    lines.push('SLA');
    for (const r of s.sla) lines.push(`  ${(r.pass ? 'PASS' : 'FAIL').padEnd(12)} ${r.expr}   (actual ${formatSlaActual(r)}${r.note ? `, ${r.note}` : ''})`);
  }
  if (s.throughput) {
    const t = s.throughput;
    lines.push('');
    lines.push(`throughput: ${t.sent} sent (${t.sentPerS.toFixed(1)}/s), ${t.delivered} delivered (${t.deliveredPerS.toFixed(1)}/s) over ${ms(t.windowMs)}`);
  }
  if (s.baseline) {
    const b = s.baseline;
    lines.push('');
    lines.push(`baseline ${b.runId} (${b.path}), max regression ${b.maxRegressionPct}%`);
    lines.push(`  ${''.padEnd(12)} ${'metric'.padEnd(25)} ${'baseline'.padStart(10)} ${'this run'.padStart(10)} ${'change'.padStart(8)}`);
    for (const c of b.comparisons) {
      lines.push(
        `  ${MARK[c.status].padEnd(12)} ${c.metric.padEnd(25)} ${formatBaselineValue(c, c.baseline).padStart(10)} ${formatBaselineValue(c, c.current).padStart(10)} ${formatChange(c.changePct).padStart(8)}${c.note ? `  (${c.note})` : ''}`,
      );
    }
  }
  if (s.harness) {
    lines.push('');
    lines.push(
      `harness: ${s.harness.events} events, worst event-loop p99 ${ms(s.harness.worstEventLoopP99Ms)}, worst sender lag p99 ${ms(s.harness.worstSenderLagP99Ms)}`,
    );
  }
  lines.push('');
  lines.push(`verdict: ${s.verdict.toUpperCase()}${s.reasons.length ? '\n  ' + s.reasons.join('\n  ') : ''}`);
  return lines.join('\n');
}

export function renderMarkdown(s: Summary): string {
  const icon = { pass: '✅', fail: '❌', error: '⚠️' }[s.verdict];
  const out: string[] = [];
  out.push(`## ${icon} chatstorm \`${s.scenario}\`: ${s.verdict}`);
  out.push('');
  out.push(`run \`${s.runId}\`, seed ${s.seed}${s.startedAt ? `, started ${s.startedAt}` : ''}`);
  if (s.reasons.length) {
    out.push('');
    for (const r of s.reasons) out.push(`- ${r}`);
  }
  out.push('');
  out.push('| check | status | anomalies | note |');
  out.push('|---|---|---:|---|');
  for (const c of Object.values(s.checks)) out.push(`| ${c.name} | ${MARK[c.status]} | ${c.count} | ${(c.note ?? '').replace(/\|/g, '\\|')} |`);
  const metrics = shownMetrics(s);
  if (metrics.length) {
    out.push('');
    out.push('| latency | n | p50 | p90 | p99 | p99.9 | max |');
    out.push('|---|---:|---:|---:|---:|---:|---:|');
    for (const [k, v] of metrics) {
      const mark = inflatedMark(s.harnessLag, k, ms);
      out.push(`| ${k}${mark ? ` ⚠️ ${mark}` : ''} | ${v.count} | ${ms(v.p50Ms)} | ${ms(v.p90Ms)} | ${ms(v.p99Ms)} | ${ms(v.p999Ms)} | ${ms(v.maxMs)} |`);
    }
    out.push('');
    out.push(harnessLagLine(s.harnessLag, ms));
  }
  if (s.sla.length) {
    out.push('');
    out.push('| SLA | actual | result |');
    out.push('|---|---:|---|');
    for (const r of s.sla) out.push(`| \`${r.expr}\` | ${formatSlaActual(r)} | ${r.pass ? 'pass' : 'FAIL'} |`);
  }
  if (s.throughput) {
    const t = s.throughput;
    out.push('');
    out.push(`throughput: ${t.sent} sent (${t.sentPerS.toFixed(1)}/s), ${t.delivered} delivered (${t.deliveredPerS.toFixed(1)}/s) over ${ms(t.windowMs)}`);
  }
  if (s.baseline) {
    const b = s.baseline;
    out.push('');
    out.push(`| vs baseline \`${b.runId}\` (max ${b.maxRegressionPct}%) | baseline | this run | change | result |`);
    out.push('|---|---:|---:|---:|---|');
    for (const c of b.comparisons) {
      out.push(`| ${c.metric} | ${formatBaselineValue(c, c.baseline)} | ${formatBaselineValue(c, c.current)} | ${formatChange(c.changePct)} | ${MARK[c.status]} |`);
    }
  }
  const failed = Object.values(s.checks).filter((c) => c.status === 'fail');
  for (const c of failed) {
    out.push('');
    out.push(`<details><summary>${c.name}: ${c.count} anomalies (first ${c.witnesses.length})</summary>\n`);
    for (const w of c.witnesses) out.push(`- ${w.summary}`);
    out.push('\n</details>');
  }
  return out.join('\n') + '\n';
}
