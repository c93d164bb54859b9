export { TRACE_VERSION, CSV_COLUMNS, traceHeaderSchema, traceRecordSchema, type Trace, type TraceHeader, type TraceRecord, type TraceMessage, type BadLine } from './format.ts';
export { parseTrace, type ParseTraceOptions } from './parse.ts';
export { traceToPlan, describeTrace, type TracePlanOptions } from './to-plan.ts';
export { synthTrace, type SynthOptions } from './synth.ts';
export { traceFromRun } from './from-run.ts';
export { traceToJsonl, traceToCsv } from './write.ts';
