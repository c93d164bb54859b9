export { defineScenario } from './define.ts';
export { validateScenario } from './validate.ts';
export { loadScenario } from './load.ts';
export { parseDuration, durationMs, formatMs, type DurationInput } from './duration.ts';
export {
  scenarioSchema,
  toxicSchema,
  faultSchema,
  arrivalSchema,
  TOXIC_TYPES,
  type Scenario,
  type ScenarioInput,
  type ToxicSpec,
  type FaultSpec,
} from './schema.ts';
