/**
 * capacity.html: a self-contained page for a capacity search — the answer, a chart of delivery
 * delay percentiles (and ack p99) against the offered rate, one point per probe, and the probe
 * table with links to each probe's own report. uPlot and its CSS are inlined, as in report.html.
 *
 *   CapacityReport --> rows (sorted by offered rate) --> JSON blob + uPlot + chart script
 */
import { relative } from 'node:path';
import type { CapacityReport } from '../capacity/report.ts';
import { fmtRate } from '../capacity/search.ts';
import { uplot } from './html.ts';

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);
const scriptJson = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c');
const fmtMs = (v: number | null) => (v === null ? '–' : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(v < 10 ? 1 : 0)} ms`);

/** Chart columns: offered rate, delivery p50, delivery p99, ack p99 (null where a probe had no data). */
export function capacityChartData(rep: CapacityReport): { offeredPerS: number[]; p50Ms: (number | null)[]; p99Ms: (number | null)[]; ackP99Ms: (number | null)[]; verdict: string[] } {
  const ran = rep.probes.filter((p) => p.runDir !== null).sort((a, b) => a.offeredPerS - b.offeredPerS);
  return {
    offeredPerS: ran.map((p) => p.offeredPerS),
    p50Ms: ran.map((p) => p.deliveryP50Ms),
    p99Ms: ran.map((p) => p.deliveryP99Ms),
    ackP99Ms: ran.map((p) => p.ackP99Ms),
    verdict: ran.map((p) => p.verdict),
  };
}

const CHART_SCRIPT = `
(function () {
  var d = JSON.parse(document.getElementById('capacity-data').textContent);
  var el = document.querySelector('[data-chart="capacity"]');
  if (!el || d.offeredPerS.length === 0) { document.body.dataset.chartsDrawn = '0'; return; }
  function fmtMs(v) { return v == null ? '' : v >= 1000 ? (v / 1000).toFixed(2) + ' s' : v.toFixed(0) + ' ms'; }
  var colors = { pass: '#1a7f37', fail: '#cf222e' };
  var opts = {
    width: Math.min(960, el.clientWidth || 960), height: 320,
    scales: { x: { time: false }, y: { distr: 3 } },
    series: [
      { label: 'offered msg/s', value: function (u, v) { return v == null ? '' : v.toFixed(1); } },
      { label: 'delivery p50', stroke: '#0969da', width: 2, points: { show: true, size: 7 }, value: function (u, v) { return fmtMs(v); } },
      { label: 'delivery p99', stroke: '#cf222e', width: 2, points: { show: true, size: 7 }, value: function (u, v) { return fmtMs(v); } },
      { label: 'ack p99', stroke: '#9a6700', width: 1, dash: [4, 4], points: { show: true, size: 5 }, value: function (u, v) { return fmtMs(v); } }
    ],
    axes: [{ label: 'offered rate (msg/s)' }, { label: 'delay from intended send', size: 80, values: function (u, v) { return v.map(fmtMs); } }],
    hooks: { draw: [function (u) {
      // Verdict of each probe as a coloured tick under the x axis: green passed, red broke, amber other.
      var ctx = u.ctx; ctx.save();
      for (var i = 0; i < d.offeredPerS.length; i++) {
        var x = u.valToPos(d.offeredPerS[i], 'x', true);
        ctx.fillStyle = colors[d.verdict[i]] || '#9a6700';
        ctx.fillRect(x - 3, u.bbox.top + u.bbox.height - 8, 6, 8);
      }
      ctx.restore();
    }] }
  };
  // A log scale needs positive values: a probe without deliveries leaves a gap.
  function pos(a) { return a.map(function (v) { return v == null || v <= 0 ? null : v; }); }
  new uPlot(opts, [d.offeredPerS, pos(d.p50Ms), pos(d.p99Ms), pos(d.ackP99Ms)], el);
  document.body.dataset.chartsDrawn = '1';
})();
`;

/** Render capacity.html; `dir` is the folder it is written to (links to probe reports are relative to it). */
export function renderCapacityHtml(rep: CapacityReport, dir: string): string {
  const { js, css } = uplot();
  const rows = rep.probes
    .map((p) => {
      const link = p.runDir === null ? '' : `<a href="${esc(relative(dir, p.runDir).split('\\').join('/'))}/report.html">report</a>`;
      const failed = [...p.failedSlas, ...p.failedChecks.map((c) => `check ${c}`)].join(', ') || (p.verdict === 'pass' ? '' : (p.reasons[0] ?? ''));
      return `<tr class="${esc(p.verdict)}"><td>${p.index}</td><td>${esc(p.phase)}</td><td>${fmtRate(p.targetPerS)}</td><td>${fmtRate(p.offeredPerS)}</td><td>${p.achievedSendPerS === null ? '–' : fmtRate(p.achievedSendPerS)}</td><td>${fmtMs(p.deliveryP50Ms)}</td><td>${fmtMs(p.deliveryP99Ms)}</td><td>${fmtMs(p.ackP99Ms)}</td><td>${esc(p.verdict.toUpperCase())}</td><td>${esc(failed)}</td><td>${link}</td></tr>`;
    })
    .join('');
  const good = rep.exitCode === 0 ? 'pass' : rep.exitCode === 1 ? 'fail' : 'error';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>chatstorm capacity ${esc(rep.scenario)}</title>
<style>${css}</style>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1000px;padding:0 1em;color:#222}
h2{margin-top:1.8em;border-bottom:1px solid #ddd}.answer{font-size:16px;font-weight:600}.answer.pass{color:#1a7f37}.answer.fail{color:#cf222e}.answer.error{color:#9a6700}
table{border-collapse:collapse;margin:.6em 0 1em;width:100%}td,th{border-bottom:1px solid #e5e5e5;padding:4px 8px;text-align:left;vertical-align:top}
tr.fail td:nth-child(9){color:#cf222e;font-weight:bold}tr.pass td:nth-child(9){color:#1a7f37}tr.limited td:nth-child(9),tr.infrastructure td:nth-child(9){color:#9a6700}
.chart{margin:.5em 0 1.5em;min-height:330px}
</style></head><body>
<h1>chatstorm capacity <code>${esc(rep.scenario)}</code></h1>
<p>run <code>${esc(rep.runId)}</code> · seed ${rep.seed} · started ${esc(rep.startedAt)}${rep.target ? ` · server ${esc(rep.target)}` : ' · built-in server (fresh per probe)'} · ${rep.probes.length} probes in ${(rep.elapsedMs / 1000).toFixed(0)} s</p>
<p class="answer ${good}">${esc(rep.headline)}</p>
<p>Stopped: ${esc(rep.stoppedBecause)}. Search: start ${fmtRate(rep.options.startPerS)} msg/s, ×${rep.options.growth} up to ${fmtRate(rep.options.maxPerS)} msg/s, then bisection to ${Math.round(rep.options.resolution * 100)} %; probes of ${fmtMs(rep.options.probeDurationMs)} (+ up to ${fmtMs(rep.options.probeGraceMs)} grace), budget ${fmtMs(rep.options.budgetMs)}.
SLAs: ${rep.options.sla.length ? rep.options.sla.map((s) => `<code>${esc(s)}</code>`).join(', ') : 'none (checks only)'}.</p>
<h2>Delay against rate</h2>
<p>Delivery delay p50 and p99 and ack delay p99 of each probe (log scale), from the intended send time, against the offered rate (planned messages per second over the second half of the probe window). Ticks under the axis: green passed, red broke (an SLA or check failed), amber could not be judged.</p>
<div class="chart" data-chart="capacity"></div>
<h2>Probes</h2>
<table><tr><th>#</th><th>phase</th><th>target/s</th><th>offered/s</th><th>sent/s</th><th>delivery p50</th><th>delivery p99</th><th>ack p99</th><th>verdict</th><th>failed</th><th></th></tr>${rows}</table>
<script type="application/json" id="capacity-data">${scriptJson(capacityChartData(rep))}</script>
<script>${js}</script>
<script>${CHART_SCRIPT}</script>
</body></html>
`;
}
