/**
 * report.html: one self-contained file (inline CSS and SVG, no scripts from elsewhere) with the
 * verdict, the checks with witnesses, percentiles, and delivery delay over time with the fault
 * timeline laid over it.
 */
import type { Summary } from './summary.ts';
import type { DelayPoint } from '../check/index.ts';
import { harnessLagLine, inflatedMark } from './harness-lag.ts';

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);
const fmt = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(v < 10 ? 1 : 0)} ms`);

function chart(points: DelayPoint[], s: Summary): string {
  if (points.length === 0) return '<p>No deliveries were recorded.</p>';
  const W = 900;
  const H = 260;
  const P = { l: 60, r: 24, t: 10, b: 30 };
  const t0 = 0;
  const t1 = Math.max(...points.map((p) => p.tS + 1), ...s.faults.map((f) => (f.endMs ?? f.startMs) / 1000));
  const yMax = Math.max(1, ...points.map((p) => p.maxMs)) * 1.05;
  const x = (tS: number) => P.l + ((tS - t0) / (t1 - t0 || 1)) * (W - P.l - P.r);
  const y = (ms: number) => H - P.b - (ms / yMax) * (H - P.t - P.b);
  const line = (key: 'p50Ms' | 'p99Ms' | 'maxMs') => points.map((p, i) => `${i ? 'L' : 'M'}${x(p.tS + 0.5).toFixed(1)},${y(p[key]).toFixed(1)}`).join(' ');
  const faults = s.faults
    .map((f) => {
      const a = x(f.startMs / 1000);
      const b = x((f.endMs ?? t1 * 1000) / 1000);
      return `<rect x="${a.toFixed(1)}" y="${P.t}" width="${Math.max(2, b - a).toFixed(1)}" height="${H - P.t - P.b}" class="fault"><title>${esc(`${f.fault} ${f.network}: ${f.description}`)}</title></rect>`;
    })
    .join('');
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((q) => `<text x="${P.l - 6}" y="${y(q * yMax) + 4}" text-anchor="end">${esc(fmt(q * yMax))}</text>`).join('');
  const xticks = Array.from({ length: 6 }, (_, i) => (t1 * i) / 5)
    .map((t) => `<text x="${x(t)}" y="${H - 8}" text-anchor="middle">${t.toFixed(0)} s</text>`)
    .join('');
  return `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="delivery delay over time">
  ${faults}
  <line x1="${P.l}" y1="${H - P.b}" x2="${W - P.r}" y2="${H - P.b}" class="axis"/><line x1="${P.l}" y1="${P.t}" x2="${P.l}" y2="${H - P.b}" class="axis"/>
  ${ticks}${xticks}
  <path d="${line('maxMs')}" class="max"/><path d="${line('p99Ms')}" class="p99"/><path d="${line('p50Ms')}" class="p50"/>
</svg>
<p class="legend"><span class="k p50"></span>p50 <span class="k p99"></span>p99 <span class="k max"></span>max <span class="k fault"></span>fault active (run time, seconds)</p>`;
}

export function renderHtml(s: Summary, points: DelayPoint[]): string {
  const checks = Object.values(s.checks)
    .map(
      (c) => `<tr class="${c.status}"><td>${esc(c.name)}</td><td>${esc(c.status)}</td><td>${c.count}</td><td>${esc(c.note ?? '')}${
        c.witnesses.length
          ? `<details><summary>${c.witnesses.length} witnesses</summary><ul>${c.witnesses
              .map((w) => `<li>${esc(w.summary)}<pre>${esc(w.trail.map((e) => JSON.stringify(e)).join('\n'))}</pre></li>`)
              .join('')}</ul></details>`
          : ''
      }</td></tr>`,
    )
    .join('');
  const metrics = Object.entries(s.metrics)
    .filter(([, m]) => m.count > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, m]) => `<tr><td>${esc(k)}${inflatedMark(s.harnessLag, k, fmt) ? ` <strong>(${esc(inflatedMark(s.harnessLag, k, fmt))})</strong>` : ''}</td><td>${m.count}</td><td>${fmt(m.p50Ms)}</td><td>${fmt(m.p90Ms)}</td><td>${fmt(m.p99Ms)}</td><td>${fmt(m.p999Ms)}</td><td>${fmt(m.maxMs)}</td></tr>`)
    .join('');
  const sla = s.sla.map((r) => `<tr class="${r.pass ? 'pass' : 'fail'}"><td><code>${esc(r.expr)}</code></td><td>${r.actual ?? 'no data'}</td><td>${r.pass ? 'pass' : 'FAIL'}</td></tr>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>chatstorm ${esc(s.scenario)}: ${s.verdict}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em auto;max-width:960px;color:#222}
h1 .pass{color:#1a7f37}h1 .fail{color:#cf222e}h1 .error{color:#9a6700}
table{border-collapse:collapse;margin:1em 0;width:100%}td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
tr.fail td:nth-child(2){color:#cf222e;font-weight:bold}tr.not-checked td:nth-child(2){color:#9a6700}
pre{font-size:11px;background:#f6f8fa;padding:6px;overflow:auto;max-height:200px}
svg{width:100%;height:auto;font-size:11px}.axis{stroke:#888}.p50{fill:none;stroke:#1f6feb;stroke-width:1.5}
.p99{fill:none;stroke:#d29922;stroke-width:1.5}.max{fill:none;stroke:#cf222e;stroke-width:1;opacity:.6}.fault{fill:#cf222e;opacity:.12}
.legend .k{display:inline-block;width:14px;height:4px;margin:0 4px 2px 12px}.legend .p50{background:#1f6feb}.legend .p99{background:#d29922}.legend .max{background:#cf222e}.legend .fault{background:#cf222e;opacity:.3;height:10px}
</style></head><body>
<h1>chatstorm <code>${esc(s.scenario)}</code>: <span class="${s.verdict}">${s.verdict.toUpperCase()}</span></h1>
<p>run <code>${esc(s.runId)}</code> · seed ${s.seed} · started ${esc(s.startedAt ?? '?')} · ended: ${esc(s.endReason)}</p>
${s.reasons.length ? `<ul>${s.reasons.map((r) => `<li>${esc(r)}</li>`).join('')}</ul>` : ''}
<h2>Delivery delay over time</h2>
${chart(points, s)}
<h2>Checks</h2><table><tr><th>check</th><th>status</th><th>anomalies</th><th>detail</th></tr>${checks}</table>
<h2>Latency</h2><p>From the intended send time (no coordinated omission).</p>
<table><tr><th>metric</th><th>n</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th></tr>${metrics}</table>
<p>${esc(harnessLagLine(s.harnessLag, fmt))}</p>
${sla ? `<h2>SLA</h2><table><tr><th>expression</th><th>actual</th><th>result</th></tr>${sla}</table>` : ''}
${s.faults.length ? `<h2>Fault timeline</h2><table><tr><th>fault</th><th>network</th><th>what</th><th>from</th><th>to</th></tr>${s.faults
    .map((f) => `<tr><td>${esc(f.fault)}</td><td>${esc(f.network)}</td><td>${esc(f.description)}</td><td>${fmt(f.startMs)}</td><td>${f.endMs === null ? 'end' : fmt(f.endMs)}</td></tr>`)
    .join('')}</table>` : ''}
${s.harness ? `<h2>Harness</h2><p>${s.harness.events} events; worst event-loop delay p99 ${fmt(s.harness.worstEventLoopP99Ms)}; worst sender lag p99 ${fmt(s.harness.worstSenderLagP99Ms)}.</p>` : ''}
</body></html>
`;
}
