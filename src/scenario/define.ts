import type { ScenarioInput } from './schema.ts';

/**
 * Declare a scenario in a scenario file (`export default defineScenario({...})`). It only gives
 * types; validation happens when the runner loads the file, so every field error is reported with
 * its path before anything starts.
 */
export function defineScenario(input: ScenarioInput): ScenarioInput {
  return input;
}
