import type { Summary } from './summary.ts';
import { formatSlaActual } from './units.ts';
import { formatBaselineValue, formatChange } from './baseline.ts';

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] as string)
    // XML 1.0 forbids most control characters even when escaped.
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

/**
 * JUnit XML: one test case per check and per SLA, witnesses in the failure body. A not-checked
 * check is reported as skipped, never as passed.
 */
export function renderJunit(s: Summary): string {
  const cases: string[] = [];
  let failures = 0;
  let skipped = 0;
  let errors = 0;
  for (const c of Object.values(s.checks)) {
    const head = `    <testcase classname="chatstorm.checks" name="${esc(c.name)}">`;
    if (c.status === 'fail') {
      failures++;
      const body = c.witnesses.map((w) => `- ${w.summary}`).join('\n');
      cases.push(`${head}\n      <failure message="${esc(`${c.count} anomalies`)}" type="${esc(c.name)}">${esc(body)}</failure>\n    </testcase>`);
    } else if (c.status === 'not-checked') {
      skipped++;
      cases.push(`${head}\n      <skipped message="${esc(c.note ?? 'not checked')}"/>\n    </testcase>`);
    } else {
      cases.push(`${head}</testcase>`);
    }
  }
  for (const r of s.sla) {
    const head = `    <testcase classname="chatstorm.sla" name="${esc(r.expr)}">`;
    if (r.pass) cases.push(`${head}</testcase>`);
    else {
      failures++;
      cases.push(`${head}\n      <failure message="${esc(`actual ${formatSlaActual(r)}${r.note ? ` (${r.note})` : ''}`)}" type="sla"/>\n    </testcase>`);
    }
  }
  // The baseline gate: one test case per compared metric, the two runs' values in the message.
  for (const c of s.baseline?.comparisons ?? []) {
    const b = s.baseline!;
    const head = `    <testcase classname="chatstorm.baseline" name="${esc(`${c.metric} within ${b.maxRegressionPct}% of ${b.runId}`)}">`;
    const values = `this run ${formatBaselineValue(c, c.current)}, baseline ${formatBaselineValue(c, c.baseline)} (${formatChange(c.changePct)})`;
    if (c.status === 'pass') cases.push(`${head}\n      <system-out>${esc(values)}</system-out>\n    </testcase>`);
    else if (c.status === 'not-checked') {
      skipped++;
      cases.push(`${head}\n      <skipped message="${esc(c.note ?? 'not checked')}"/>\n    </testcase>`);
    } else {
      failures++;
      cases.push(`${head}\n      <failure message="${esc(values)}" type="baseline"/>\n    </testcase>`);
    }
  }
  // Any `error` verdict (harness failure, or a required check that could not run) is a JUnit
  // error, so a CI page never shows such a run as green.
  if (s.verdict === 'error') {
    errors++;
    const why = s.error ?? s.reasons.join('; ');
    cases.push(`    <testcase classname="chatstorm.harness" name="run">\n      <error message="${esc(why)}" type="${esc(s.endReason)}"/>\n    </testcase>`);
  }
  const total = cases.length;
  // No timestamp at all rather than an empty one: JUnit's schema types it as a date-time.
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<testsuites name="chatstorm" tests="${total}" failures="${failures}" errors="${errors}" skipped="${skipped}">\n` +
    `  <testsuite name="${esc(s.scenario)}" tests="${total}" failures="${failures}" errors="${errors}" skipped="${skipped}"${s.startedAt ? ` timestamp="${esc(s.startedAt)}"` : ''}>\n` +
    `    <properties>\n      <property name="runId" value="${esc(s.runId)}"/>\n      <property name="seed" value="${s.seed}"/>\n    </properties>\n` +
    cases.join('\n') +
    `\n  </testsuite>\n</testsuites>\n`
  );
}
