export { buildPlan, planHash } from './plan.ts';
export type { Plan, PlannedAccount, PlannedConversation, PlannedDevice, PlannedFault, PlannedRead, PlannedSend } from './plan.ts';
export { Random } from './random.ts';
export { arrivalTimes } from './arrivals.ts';
