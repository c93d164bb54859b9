/**
 * Read a trace (JSON Lines or CSV) into records, line by line: every malformed line is reported
 * with its number, the field and the reason; by default any bad line refuses the whole trace
 * (`InvalidTraceError`, exit 2), with `skipBadLines` they are left out and listed.
 *
 *   text --lines--> header (JSONL line 1) + records --schema--> time-order check --> Trace
 */
import { parse as parseCsv } from 'csv-parse/sync';
import type { core } from 'zod';
import { InvalidTraceError } from '../errors.ts';
import { traceHeaderSchema, traceRecordSchema, TRACE_VERSION, type BadLine, type Trace, type TraceHeader, type TraceRecord } from './format.ts';

export interface ParseTraceOptions {
  /** Name used in messages (the file path). */
  source?: string;
  /** `jsonl` (default) or `csv`. */
  format?: 'jsonl' | 'csv';
  /** Leave malformed lines out and list them, instead of refusing the trace. */
  skipBadLines?: boolean;
}

/** How many bad lines an error message lists before "and N more". */
const LISTED = 20;

/** Parse a whole trace text. Throws InvalidTraceError on bad input (unless skipped). */
export function parseTrace(text: string, o: ParseTraceOptions = {}): Trace {
  const source = o.source ?? 'trace';
  const rows = o.format === 'csv' ? csvRows(text, source) : jsonlRows(text);
  const bad: BadLine[] = [];
  let header: TraceHeader = { trace: 'chatstorm', version: TRACE_VERSION };
  const records: TraceRecord[] = [];
  const lines: number[] = [];
  let lastT = 0;
  let first = true;
  for (const row of rows) {
    if (row.error) {
      bad.push({ line: row.line, field: '', reason: row.error });
      continue;
    }
    if (o.format !== 'csv' && first) {
      first = false;
      const h = traceHeaderSchema.safeParse(row.value);
      if (!h.success) {
        // The header carries networks and faults: a trace without a valid one cannot be replayed.
        const issue = h.error.issues[0] as core.$ZodIssue;
        throw new InvalidTraceError(source, [
          { line: row.line, field: pathOf(issue.path), reason: `${issue.message}; the first line must be the header {"trace":"chatstorm","version":${TRACE_VERSION}, ...}` },
        ]);
      }
      header = h.data;
      continue;
    }
    const r = traceRecordSchema.safeParse(row.value);
    if (!r.success) {
      for (const issue of r.error.issues) bad.push({ line: row.line, field: pathOf(issue.path), reason: issue.message });
      continue;
    }
    if (r.data.t < lastT) {
      bad.push({ line: row.line, field: 't', reason: `out of time order: ${r.data.t} ms comes after ${lastT} ms (sort the trace by t)` });
      continue;
    }
    lastT = r.data.t;
    records.push(r.data);
    lines.push(row.line);
  }
  if (bad.length > 0 && !o.skipBadLines) throw new InvalidTraceError(source, bad.slice(0, LISTED), bad.length - LISTED);
  if (o.format !== 'csv' && first) throw new InvalidTraceError(source, [{ line: 1, field: '', reason: 'the trace is empty (no header line)' }]);
  return { header, records, lines, skipped: bad };
}

type Row = { line: number; value?: unknown; error?: string };

function jsonlRows(text: string): Row[] {
  const rows: Row[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === '') continue;
    try {
      rows.push({ line: i + 1, value: JSON.parse(line) });
    } catch (err) {
      rows.push({ line: i + 1, error: `not JSON: ${(err as Error).message}` });
    }
  }
  return rows;
}

/** Numeric CSV columns, and list columns (values separated by ";"). */
const NUMBERS = new Set(['t', 'size']);
const NUMBER_LISTS = new Set(['attachments']);
const LISTS = new Set(['devices', 'members']);

function csvRows(text: string, source: string): Row[] {
  let table: { record: string[]; info: { lines: number } }[];
  try {
    table = parseCsv(text, { relax_column_count: true, skip_empty_lines: true, trim: true, info: true }) as unknown as typeof table;
  } catch (err) {
    const line = (err as { lines?: number }).lines ?? 1;
    throw new InvalidTraceError(source, [{ line, field: '', reason: `not CSV: ${(err as Error).message}` }]);
  }
  const head = table[0]?.record;
  const body = table.slice(1);
  if (!head || !head.includes('t') || !head.includes('type')) {
    throw new InvalidTraceError(source, [{ line: 1, field: '', reason: 'the first row must name the columns, at least "t" and "type"' }]);
  }
  return body.map(({ record: cells, info }) => {
    const value: Record<string, unknown> = {};
    head.forEach((col, c) => {
      const cell = cells[c];
      if (cell === undefined || cell === '') return;
      if (NUMBERS.has(col)) value[col] = Number(cell);
      else if (NUMBER_LISTS.has(col)) value[col] = cell.split(';').map(Number);
      else if (LISTS.has(col)) value[col] = cell.split(';');
      else value[col] = cell;
    });
    return { line: info.lines, value };
  });
}

function pathOf(path: readonly PropertyKey[]): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[');
}
