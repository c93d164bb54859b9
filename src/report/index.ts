export { decide, exitCodeOf, REQUIRED_CHECKS, SUMMARY_SCHEMA, type Summary, type RunVerdict } from './summary.ts';
export { renderJunit } from './junit.ts';
export { renderConsole, renderMarkdown } from './text.ts';
export { renderHtml, type ReportCharts } from './html.ts';
export { writeReports, REPORT_FILES } from './write.ts';
export { FaultLog } from './fault-log.ts';
