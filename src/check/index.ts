/** Checkers: pure folds over the history that judge a run, and the SLA gate. */
export type { CheckStatus, Witness, CheckResult, Checker, LatencySummary, Verdict, Judge, CheckName } from './types.ts';
export { MAX_WITNESSES, CHECK_NAMES } from './types.ts';
export { createJudge, judgeAll, ChatstormJudge } from './judge.ts';
export type { JudgeOptions } from './judge.ts';
export { parseSla, evaluateSlas } from './sla.ts';
export type { Sla, SlaOp, SlaResult } from './sla.ts';
export { Ledger, counterOf } from './ledger.ts';
export type { LedgerOptions, MessageRecord, LedgerNote, Outcome } from './ledger.ts';
export { LossChecker } from './loss.ts';
export { DuplicatesChecker } from './duplicates.ts';
export { OrderingChecker } from './ordering.ts';
export { DelayMetrics } from './delay.ts';
export { FaultTimeline, RECOVERY_WINDOW_MS } from './fault-timeline.ts';
export type { FaultPhase } from './fault-timeline.ts';
export { Topology } from './topology.ts';
