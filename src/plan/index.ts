export { buildPlan, planHash } from './plan.ts';
export type { Plan, PlannedAccount, PlannedConversation, PlannedDevice, PlannedFault, PlannedRead, PlannedSend, FaultAction, PlannedHistoryLoad, PlannedHistoryPolicy } from './plan.ts';
export { Random } from './random.ts';
export { arrivalTimes } from './arrivals.ts';
export { AgentPool } from './agent-pool.ts';
export { PayloadMix, DEFAULT_SIZES, type Payload } from './payload.ts';
export { planFaults } from './faults.ts';
export { planHistoryLoads, type HistoryLoadContext } from './history-loads.ts';
