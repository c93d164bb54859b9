/**
 * Serialise a trace: JSON Lines (the header, then a record a line) or CSV (a header row of
 * `CSV_COLUMNS`, list cells joined with ";"; the JSON Lines header has no CSV form, so networks,
 * faults and SLAs of a CSV trace come from `--scenario`).
 */
import { CSV_COLUMNS, type TraceHeader, type TraceRecord } from './format.ts';

/** The trace as JSON Lines text, ending with a newline. */
export function traceToJsonl(header: TraceHeader, records: readonly TraceRecord[]): string {
  return [header, ...records].map((r) => JSON.stringify(r)).join('\n') + '\n';
}

/** The records as CSV text (RFC 4180 quoting where a cell needs it), ending with a newline. */
export function traceToCsv(records: readonly TraceRecord[]): string {
  const rows = [CSV_COLUMNS.join(',')];
  for (const r of records) {
    const rec = r as Record<string, unknown>;
    rows.push(CSV_COLUMNS.map((c) => cell(rec[c])).join(','));
  }
  return rows.join('\n') + '\n';
}

function cell(v: unknown): string {
  if (v === undefined || v === null) return '';
  const s = Array.isArray(v) ? v.join(';') : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
