export { decide, exitCodeOf, REQUIRED_CHECKS, SUMMARY_SCHEMA, type Summary, type RunVerdict } from './summary.ts';
export { renderJunit } from './junit.ts';
export { renderConsole, renderMarkdown } from './text.ts';
export { renderHtml, type ReportCharts } from './html.ts';
export { writeReports, REPORT_FILES } from './write.ts';
export { FaultLog } from './fault-log.ts';
export { formatMs, formatSlaActual } from './units.ts';
export { ThroughputMeter, type Throughput } from './throughput.ts';
export {
  compareToBaseline,
  gateOnBaseline,
  loadBaseline,
  parseRegression,
  DEFAULT_MAX_REGRESSION_PCT,
  type BaselineRun,
  type BaselineReport,
  type BaselineComparison,
} from './baseline.ts';
export { appendStepSummary, publishStepSummary, STEP_SUMMARY_ENV } from './step-summary.ts';
export { LiveMetrics, DELAY_BUCKETS_S, type LiveMetricsOptions } from './live-metrics.ts';
export { startMetricsServer, type MetricsServer } from './metrics-server.ts';
export { liveAnomalies, liveDeliveryP99Ms, LIVE_CHECKS } from './live-judge.ts';
export { LiveProgressTracker, formatProgress, progressPrinter, type LiveProgress } from './progress.ts';
export { RunSeries, type RunSeriesData } from './run-series.ts';
export { describeEvent, describeTrail } from './event-text.ts';
