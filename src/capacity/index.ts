/** Capacity search: probes at chosen rates, the bounded search over them, and its report. */
export { searchCapacity, exitCodeOfAnswer, fmtRate, DEFAULT_GROWTH, DEFAULT_RESOLUTION } from './search.ts';
export type { ProbeOutcome, SearchStep, CapacityAnswer, SearchOptions, SearchResult } from './search.ts';
export { probeScenario, scaleScenario, shortenScenario, offeredRateOf } from './probe-scenario.ts';
export type { ProbeScenario, ProbeWindow } from './probe-scenario.ts';
export { withFreshIds } from './fresh-ids.ts';
export { runProbe, classify } from './probe.ts';
export type { ProbeFigures, ProbeVerdict, ProbeContext } from './probe.ts';
export { CAPACITY_SCHEMA, CAPACITY_FILES, headlineOf, renderCapacityConsole } from './report.ts';
export type { CapacityReport } from './report.ts';
