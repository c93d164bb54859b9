import type { core } from 'zod';
import { InvalidScenarioError } from '../errors.ts';
import { scenarioSchema, type Scenario } from './schema.ts';

/** Format a zod issue path as `population.agents.count` / `faults[2].network`. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out;
}

/** Render what was given at a path, short. */
function given(input: unknown, path: readonly PropertyKey[]): string {
  let v: unknown = input;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return '';
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  if (v === undefined) return ' (missing)';
  const text = JSON.stringify(v);
  return text === undefined ? '' : ` (given ${text.length > 60 ? text.slice(0, 57) + '...' : text})`;
}

/**
 * A union such as "one segment or a list of segments" fails as a whole with a bare "Invalid
 * input". When exactly one branch accepted the value's shape (its errors are deeper than the
 * union itself), report that branch's errors instead: they name the bad field.
 */
function flatten(issue: core.$ZodIssue): { path: PropertyKey[]; message: string }[] {
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    // A branch that refused the value's type, or is a literal the value is not (`sweep: false`), does not fit.
    const fitting = issue.errors.filter((branch) => !branch.some((i) => (i.code === 'invalid_type' || i.code === 'invalid_value') && i.path.length === 0));
    if (fitting.length === 1) {
      return (fitting[0] as core.$ZodIssue[]).flatMap((i) => flatten({ ...i, path: [...issue.path, ...i.path] }));
    }
  }
  return [{ path: [...issue.path], message: issue.message }];
}

/**
 * Validate a scenario and fill its defaults. Throws InvalidScenarioError listing every bad
 * field with its path, what was expected and what was given.
 */
export function validateScenario(input: unknown, source = 'scenario'): Scenario {
  const r = scenarioSchema.safeParse(input);
  if (r.success) return r.data;
  throw new InvalidScenarioError(
    r.error.issues.flatMap(flatten).map((i) => ({ path: formatPath(i.path), message: i.message + given(input, i.path) })),
    source,
  );
}
