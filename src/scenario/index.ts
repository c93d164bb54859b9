export { defineScenario } from './define.ts';
export { validateScenario } from './validate.ts';
export { loadScenario } from './load.ts';
export { defineQuick, quickScenario, QUICK_DURATION_MS, type QuickSpec, type QuickResult } from './quick.ts';
export { defineExpectations, type ScenarioExpectations } from './expectations.ts';
export { parseDuration, durationMs, formatMs, type DurationInput } from './duration.ts';
export { parseSize, type SizeInput } from './size.ts';
export { TOXIC_ATTRIBUTES, type ToxicType } from './toxic-attributes.ts';
export {
  scenarioSchema,
  toxicSchema,
  faultSchema,
  arrivalSchema,
  agentSegmentSchema,
  customerSegmentSchema,
  groupsSchema,
  historySchema,
  MAX_PAGE_SIZE,
  MIN_HISTORY_EVERY_MS,
  TOXIC_TYPES,
  PAYLOAD_KINDS,
  SIZE_BOUNDS,
  type Scenario,
  type ScenarioInput,
  type ToxicSpec,
  type FaultSpec,
  type AgentSegment,
  type CustomerSegment,
  type PayloadKind,
  type HistorySpec,
} from './schema.ts';
