import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Summary } from './summary.ts';
import { renderJunit } from './junit.ts';
import { renderMarkdown } from './text.ts';
import { renderHtml, type ReportCharts } from './html.ts';

/** Files of a run directory, by name. */
export const REPORT_FILES = {
  summary: 'summary.json',
  junit: 'junit.xml',
  markdown: 'summary.md',
  html: 'report.html',
  history: 'history.jsonl',
  plan: 'plan.json',
} as const;

/** Write summary.json, junit.xml, summary.md and report.html into `dir`. */
export async function writeReports(dir: string, s: Summary, charts?: ReportCharts): Promise<void> {
  await mkdir(dir, { recursive: true });
  await Promise.all([
    writeFile(join(dir, REPORT_FILES.summary), JSON.stringify(s, null, 2) + '\n'),
    writeFile(join(dir, REPORT_FILES.junit), renderJunit(s)),
    writeFile(join(dir, REPORT_FILES.markdown), renderMarkdown(s)),
    writeFile(join(dir, REPORT_FILES.html), renderHtml(s, charts)),
  ]);
}

