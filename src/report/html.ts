/**
 * report.html: one self-contained file that explains a run without opening its history — the
 * verdict and why; delivery delay percentiles over time with the fault timeline laid over them;
 * throughput and devices live; connection attempts, failures and losses; latency by message kind,
 * network and fault phase; each anomaly with its witness's events told as sentences; the
 * harness's own health. Charts are drawn by uPlot, inlined with its CSS (no network fetches).
 *
 *   summary + delay points + run series ──> renderHtml ──> HTML tables (no script needed)
 *                                                      └─> JSON blob + uPlot + chart script
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Summary } from './summary.ts';
import type { DelayPoint } from '../check/index.ts';
import type { LatencySummary } from '../stats/hdr.ts';
import type { RunSeriesData } from './run-series.ts';
import { formatSlaActual } from './units.ts';
import { formatBaselineValue, formatChange } from './baseline.ts';
import { describeTrail } from './event-text.ts';
import { harnessLagLine, inflatedMark } from './harness-lag.ts';

/** What the charts draw, beyond summary.json. */
export interface ReportCharts {
  /** Delivery delay per second (the judge's series). */
  delay: DelayPoint[];
  /** Per-second run series; null when the history was not folded (the charts it feeds are left out). */
  series: RunSeriesData | null;
}

const require = createRequire(import.meta.url);
let uplotAssets: { js: string; css: string } | null = null;
/** uPlot's browser build and stylesheet, read once (they are inlined in every report). */
export function uplot(): { js: string; css: string } {
  uplotAssets ??= {
    js: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
    css: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
  };
  return uplotAssets;
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);
const fmt = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(v < 10 ? 1 : 0)} ms`);
/** JSON inside a <script> element: `<` escaped so no string in it can close the element. */
const scriptJson = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c');

/** Rows of a latency table: label, figures, and the metric's full name (for the harness-lag mark). */
function latencyRows(entries: [string, LatencySummary, string][], s: Summary): string {
  return entries
    .map(([k, m, metric]) => {
      const mark = inflatedMark(s.harnessLag, metric, fmt);
      return `<tr><td>${esc(k)}${mark ? ` <strong>(${esc(mark)})</strong>` : ''}</td><td>${m.count}</td><td>${fmt(m.p50Ms)}</td><td>${fmt(m.p90Ms)}</td><td>${fmt(m.p99Ms)}</td><td>${fmt(m.p999Ms)}</td><td>${fmt(m.maxMs)}</td></tr>`;
    })
    .join('');
}

function latencyTable(title: string, pattern: RegExp, s: Summary, note = ''): string {
  const entries = Object.entries(s.metrics)
    .map(([k, m]) => [pattern.exec(k)?.[1], m, k] as const)
    .filter((x): x is [string, LatencySummary, string] => x[0] !== undefined && x[1].count > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (entries.length === 0) return '';
  return `<h3>${esc(title)}</h3>${note}<table class="num"><tr><th></th><th>n</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th></tr>${latencyRows(entries, s)}</table>`;
}

function checksTable(s: Summary): string {
  const rows = Object.values(s.checks)
    .map((c) => `<tr class="${c.status}"><td>${esc(c.name)}</td><td>${c.status === 'fail' ? 'FAIL' : esc(c.status)}</td><td>${c.count}</td><td>${esc(c.note ?? '')}</td></tr>`)
    .join('');
  return `<table><tr><th>check</th><th>status</th><th>anomalies</th><th>note</th></tr>${rows}</table>`;
}

function anomalies(s: Summary): string {
  const failed = Object.values(s.checks).filter((c) => c.status === 'fail');
  if (failed.length === 0) return '<p>No anomalies.</p>';
  return failed
    .map(
      (c) =>
        `<h3>${esc(c.name)}: ${c.count} anomal${c.count === 1 ? 'y' : 'ies'}${c.witnesses.length < c.count ? ` (first ${c.witnesses.length} shown)` : ''}</h3><ol class="witnesses">${c.witnesses
          .map(
            (w) =>
              `<li><p class="what">${esc(w.summary)}</p>${w.trail.length ? `<pre class="trail">${esc(describeTrail(w.trail).join('\n'))}</pre><details><summary>events as recorded</summary><pre>${esc(w.trail.map((e) => JSON.stringify(e)).join('\n'))}</pre></details>` : ''}</li>`,
          )
          .join('')}</ol>`,
    )
    .join('');
}

function harness(s: Summary, charts: ReportCharts): string {
  if (!s.harness) return '<p>No self-measurement was recorded (the run did not start).</p>';
  const h = s.harness;
  const lagChart = charts.series && charts.series.eventLoopP99Ms.some((v) => v !== null) ? '<div class="chart" data-chart="harness"></div>' : '';
  return `<p>${h.overloaded ? `<strong class="bad">The harness was overloaded: ${esc(h.overloaded)}.</strong> Its figures are not the server's.` : 'The harness kept up: its own delays stayed within bounds, so the delays above are the system\'s.'}</p>
<table class="num"><tr><th>events recorded</th><th>worst event-loop delay p99</th><th>worst sender lag p99</th><th>largest sender lag</th></tr>
<tr><td>${h.events}</td><td>${fmt(h.worstEventLoopP99Ms)}</td><td>${fmt(h.worstSenderLagP99Ms)}</td><td>${fmt(h.senderLagMaxMs)}</td></tr></table>${lagChart}`;
}

function chartData(s: Summary, charts: ReportCharts) {
  const d = charts.delay;
  return {
    delay: d.length ? { t: d.map((p) => p.tS + 0.5), p50: d.map((p) => p.p50Ms), p99: d.map((p) => p.p99Ms), max: d.map((p) => p.maxMs) } : null,
    faults: s.faults.map((f) => ({ start: f.startMs / 1000, end: f.endMs === null ? null : f.endMs / 1000, label: `${f.fault} ${f.network}: ${f.description}` })),
    series: charts.series,
    // One time axis for every chart: from 0 to the last second with anything in it.
    xMax: Math.max(1, charts.series?.tS.length ?? 0, ...d.map((p) => p.tS + 1), ...s.faults.map((f) => (f.endMs ?? f.startMs) / 1000)),
  };
}

/** The inline script: builds each `.chart[data-chart]` from the JSON blob; marks the body when every chart has drawn. */
const CHART_SCRIPT = `
(function () {
  var data = JSON.parse(document.getElementById('chart-data').textContent);
  var fmtMs = function (v) { return v == null ? '' : v >= 1000 ? (v / 1000).toFixed(2) + ' s' : v.toFixed(v < 10 ? 1 : 0) + ' ms'; };
  var fmtN = function (v) { return v == null ? '' : String(Math.round(v * 10) / 10); };
  // Fault bands under the series, with their ids along the top.
  function faultBands(u) {
    var ctx = u.ctx, top = u.bbox.top, h = u.bbox.height;
    ctx.save();
    data.faults.forEach(function (f, i) {
      var x0 = u.valToPos(f.start, 'x', true);
      var x1 = u.valToPos(f.end == null ? u.scales.x.max : f.end, 'x', true);
      x0 = Math.max(x0, u.bbox.left); x1 = Math.min(x1, u.bbox.left + u.bbox.width);
      if (x1 <= x0) return;
      ctx.fillStyle = 'rgba(207,34,46,0.10)';
      ctx.fillRect(x0, top, Math.max(2, x1 - x0), h);
      ctx.fillStyle = 'rgba(207,34,46,0.85)';
      ctx.font = (11 * devicePixelRatio) + 'px system-ui, sans-serif';
      ctx.fillText(f.label.split(':')[0], x0 + 3, top + 12 * devicePixelRatio * (1 + (i % 3)));
    });
    ctx.restore();
  }
  var drawn = 0, expected = 0;
  function make(el, opts, cols) {
    expected++;
    opts.width = el.clientWidth || 900;
    opts.height = 260;
    opts.hooks = { drawClear: [faultBands], draw: [function () { if (!el.dataset.drawn) { el.dataset.drawn = '1'; drawn++; if (drawn === expected) document.body.dataset.chartsDrawn = String(drawn); } }] };
    opts.scales = opts.scales || {};
    opts.scales.x = { time: false, range: [0, data.xMax] };
    return new uPlot(opts, cols, el);
  }
  var xAxis = { label: 'run time (s)', values: function (u, v) { return v.map(function (x) { return x + ' s'; }); } };
  document.querySelectorAll('.chart[data-chart]').forEach(function (el) {
    var kind = el.dataset.chart, s = data.series;
    if (kind === 'delay' && data.delay) {
      make(el, { series: [{ label: 'time' }, { label: 'p50', stroke: '#1f6feb', value: function (u, v) { return fmtMs(v); } }, { label: 'p99', stroke: '#d29922', width: 2, value: function (u, v) { return fmtMs(v); } }, { label: 'max', stroke: '#cf222e', value: function (u, v) { return fmtMs(v); } }],
        axes: [xAxis, { label: 'delay from intended send', size: 70, values: function (u, v) { return v.map(fmtMs); } }] }, [data.delay.t, data.delay.p50, data.delay.p99, data.delay.max]);
    } else if (kind === 'throughput' && s) {
      make(el, { series: [{ label: 'time' }, { label: 'sent/s', stroke: '#1f6feb', value: function (u, v) { return fmtN(v); } }, { label: 'delivered/s', stroke: '#1a7f37', value: function (u, v) { return fmtN(v); } }, { label: 'devices live', stroke: '#8250df', dash: [6, 4], scale: 'dev', value: function (u, v) { return fmtN(v); } }],
        scales: { dev: {} }, axes: [xAxis, { label: 'messages per second', size: 60 }, { label: 'devices live', side: 1, scale: 'dev', grid: { show: false } }] }, [s.tS, s.sent, s.delivered, s.liveDevices]);
    } else if (kind === 'connections' && s) {
      make(el, { series: [{ label: 'time' }, { label: 'attempts', stroke: '#1f6feb' }, { label: 'failed attempts', stroke: '#cf222e' }, { label: 'connections lost', stroke: '#d29922' }],
        axes: [xAxis, { label: 'per second', size: 50 }] }, [s.tS, s.connectAttempts, s.connectFailed, s.connectionsLost]);
    } else if (kind === 'harness' && s) {
      make(el, { series: [{ label: 'time' }, { label: 'event-loop p99', stroke: '#8250df', spanGaps: true, value: function (u, v) { return fmtMs(v); } }, { label: 'sender lag p99', stroke: '#d29922', spanGaps: true, value: function (u, v) { return fmtMs(v); } }],
        axes: [xAxis, { label: "harness's own delay", size: 70, values: function (u, v) { return v.map(fmtMs); } }] }, [s.tS, s.eventLoopP99Ms, s.senderLagP99Ms]);
    }
  });
  if (expected === 0) document.body.dataset.chartsDrawn = '0';
})();
`;

/** Render report.html. */
export function renderHtml(s: Summary, charts: ReportCharts = { delay: [], series: null }): string {
  const { js, css } = uplot();
  const d = s.metrics.delivery;
  const anomaliesTotal = Object.values(s.checks).reduce((n, c) => n + c.count, 0);
  const sla = s.sla.map((r) => `<tr class="${r.pass ? 'pass' : 'fail'}"><td><code>${esc(r.expr)}</code></td><td>${esc(formatSlaActual(r))}</td><td>${r.pass ? 'pass' : 'FAIL'}</td><td>${esc(r.note ?? '')}</td></tr>`).join('');
  const series = charts.series;
  const card = (label: string, value: string) => `<div class="card"><div class="v">${esc(value)}</div><div class="l">${esc(label)}</div></div>`;
  const otherLatency = Object.entries(s.metrics)
    .filter(([k, m]) => m.count > 0 && !/[[{@]/.test(k))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>chatstorm ${esc(s.scenario)}: ${s.verdict}</title>
<style>${css}</style>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1000px;padding:0 1em;color:#222}
h1 .pass{color:#1a7f37}h1 .fail{color:#cf222e}h1 .error{color:#9a6700}h2{margin-top:1.8em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6em 0 1em;width:100%}td,th{border-bottom:1px solid #e5e5e5;padding:4px 8px;text-align:left;vertical-align:top}
table.num td:not(:first-child),table.num th:not(:first-child){text-align:right}
tr.fail td:nth-child(2),tr.fail td:last-child{color:#cf222e;font-weight:bold}tr.not-checked td:nth-child(2){color:#9a6700}
pre{font-size:12px;background:#f6f8fa;padding:6px 8px;overflow:auto;max-height:320px}.trail{white-space:pre}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:1em 0}.card{border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:120px}.card .v{font-size:20px;font-weight:600}.card .l{color:#666;font-size:12px}
.chart{margin:.5em 0 1.5em;min-height:300px}.bad{color:#cf222e}.witnesses li{margin-bottom:1em}.what{font-weight:600;margin:.2em 0}
</style></head><body>
<h1>chatstorm <code>${esc(s.scenario)}</code>: <span class="${s.verdict}">${s.verdict.toUpperCase()}</span></h1>
<p>run <code>${esc(s.runId)}</code> · seed ${s.seed} · started ${esc(s.startedAt ?? '?')} · ended: ${esc(s.endReason)}${s.target ? ` · server ${esc(s.target)}` : ''}${s.toxiproxy ? ` · Toxiproxy ${esc(s.toxiproxy.kind)}` : ''}</p>
${s.reasons.length ? `<ul class="reasons">${s.reasons.map((r) => `<li>${esc(r)}</li>`).join('')}</ul>` : ''}
<div class="cards">${[
    card('deliveries', d ? String(d.count) : '0'),
    card('delivery p99', d && d.count ? fmt(d.p99Ms) : 'no data'),
    card('delivered per second', s.throughput ? s.throughput.deliveredPerS.toFixed(1) : 'no data'),
    card('anomalies', String(anomaliesTotal)),
    card('faults', String(s.faults.length)),
  ].join('')}</div>
<h2>Delivery delay over time</h2>
<p>p50, p99 and max of the deliveries arriving in each second, from the intended send time (no coordinated omission); shaded: faults active.</p>
${charts.delay.length ? '<div class="chart" data-chart="delay"></div>' : '<p>No deliveries were recorded.</p>'}
<h2>Throughput and devices</h2>
${series ? '<div class="chart" data-chart="throughput"></div>' : '<p>Not available for this report.</p>'}
<h2>Connections</h2>
${series ? '<p>Connection attempts started, attempts that failed (the device tried again before connecting), and live connections lost, per second.</p><div class="chart" data-chart="connections"></div>' : '<p>Not available for this report.</p>'}
<h2>Checks</h2>${checksTable(s)}
${sla ? `<h2>SLA</h2><table><tr><th>expression</th><th>actual</th><th>result</th><th>note</th></tr>${sla}</table>` : ''}
${s.baseline ? `<h2>Against baseline <code>${esc(s.baseline.runId)}</code></h2><p>Allowed regression ${s.baseline.maxRegressionPct}% (${esc(s.baseline.path)}).</p>
<table class="baseline"><tr><th>metric</th><th>baseline</th><th>this run</th><th>change</th><th>result</th></tr>${s.baseline.comparisons
    .map((c) => `<tr class="${c.status}"><td>${esc(c.metric)}</td><td>${esc(formatBaselineValue(c, c.baseline))}</td><td>${esc(formatBaselineValue(c, c.current))}</td><td>${esc(formatChange(c.changePct))}</td><td>${c.status === 'fail' ? 'FAIL' : esc(c.status)}${c.note ? ` (${esc(c.note)})` : ''}</td></tr>`)
    .join('')}</table>` : ''}
<h2>Latency</h2><p>From the intended send time.${s.throughput ? ` Throughput: ${s.throughput.sent} sent (${s.throughput.sentPerS.toFixed(1)}/s), ${s.throughput.delivered} delivered (${s.throughput.deliveredPerS.toFixed(1)}/s) over ${fmt(s.throughput.windowMs)}.` : ''}</p>
${otherLatency.length ? `<table class="num"><tr><th>metric</th><th>n</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th></tr>${latencyRows(otherLatency.map(([k, m]) => [k, m, k]), s)}</table>` : '<p>No latency was recorded.</p>'}
<p>${esc(harnessLagLine(s.harnessLag, fmt))}</p>
${latencyTable('Delivery by message kind', /^delivery\[(.+)\]$/, s)}
${latencyTable('Delivery by network (of the receiving device)', /^delivery\{(.+)\}$/, s)}
${latencyTable('Delivery by fault phase', /^delivery@(.+)$/, s, '<p>steady: no fault active; fault: while one was; recovery: just after one ended.</p>')}
<h2>Anomalies</h2>${anomalies(s)}
${s.faults.length ? `<h2>Fault timeline</h2><table><tr><th>fault</th><th>network</th><th>what</th><th>from</th><th>to</th></tr>${s.faults
    .map((f) => `<tr><td>${esc(f.fault)}</td><td>${esc(f.network)}</td><td>${esc(f.description)}</td><td>${fmt(f.startMs)}</td><td>${f.endMs === null ? 'end of run' : fmt(f.endMs)}</td></tr>`)
    .join('')}</table>` : ''}
<h2>Harness health</h2>${harness(s, charts)}
<script type="application/json" id="chart-data">${scriptJson(chartData(s, charts))}</script>
<script>${js}</script>
<script>${CHART_SCRIPT}</script>
</body></html>
`;
}
