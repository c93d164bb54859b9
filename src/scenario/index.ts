export { defineScenario } from './define.ts';
export { validateScenario } from './validate.ts';
export { loadScenario } from './load.ts';
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
} from './schema.ts';
