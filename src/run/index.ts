export { runPlan, makeRunId, type RunOptions, type RunOutcome, type Progress } from './runner.ts';
export { VirtualDevice, type PendingMessage, type DeviceState } from './device.ts';
export { SelfMonitor, type SelfMonitorOptions, type SelfReport } from './self-monitor.ts';
export { Timeline, type TimedAction } from './timeline.ts';
export { backoffMs, type BackoffOptions } from './backoff.ts';
