/**
 * What a shipped scenario is expected to show, in machine-readable form, next to its default
 * export (`export const expectations = defineExpectations({...})`): its verdict on the reference
 * server, and the `--defect` of the reference server that makes it fail, with the one check that
 * then fails. CI (test/e2e/incidents-clean*.e2e.test.ts and incidents-defect.e2e.test.ts) reads these rather than repeating them.
 */
import type { CheckName } from '../check/types.ts';
import type { DefectName } from '../server/options.ts';

/** A scenario's expected outcomes, in quick mode (`chatstorm run --quick`). */
export interface ScenarioExpectations {
  /** Verdict against the correct reference server (`chatstorm run <file> --quick`). */
  verdict: 'pass' | 'fail';
  /**
   * The defect that breaks it: `chatstorm run <file> --quick --defect <name> --defect-rate <rate>`
   * fails, and `check` is the check whose verdict is then `fail`.
   */
  defect: { name: DefectName; rate: number; check: CheckName };
  /**
   * `nack` codes the run must show on the correct server (each at least once): proof that the
   * scenario reaches the condition it is about, e.g. `['rate-limited']`.
   */
  nacks?: string[];
}

/** Declare a scenario's expectations; only gives types. */
export function defineExpectations(e: ScenarioExpectations): ScenarioExpectations {
  return e;
}
