export { runPlan, makeRunId, type RunOptions, type RunOutcome, type Progress } from './runner.ts';
export { VirtualDevice, type PendingMessage, type DeviceState, type DeviceHooks, type DeviceOptions, type DeviceHistoryOptions } from './device.ts';
export { SelfMonitor, type SelfMonitorOptions, type SelfReport } from './self-monitor.ts';
export { Timeline, type TimedAction } from './timeline.ts';
export { backoffMs, type BackoffOptions } from './backoff.ts';
export { FaultPlayer, type FaultPlayerOptions } from './fault-player.ts';
export { preflightToxics, toxicProbes } from './toxic-preflight.ts';
export { attachmentsFor } from './attachment-content.ts';
export { devicesPerNetwork, proxyProcessesFor } from './proxy-load.ts';
