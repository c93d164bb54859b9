/**
 * Bounded fuzzing of the scenario validator (fast-check): random values, and valid scenarios
 * with one field mutated (replaced by a value of another type, a huge or negative number, a long
 * string, removed, or joined by an unknown key). Whatever comes in, `validateScenario` either
 * returns a scenario or throws InvalidScenarioError whose issues each name a path and say what is
 * wrong; never anything else. Run counts are fixed (NUM_RUNS), so the test takes seconds.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidScenarioError } from '../../src/errors.ts';
import { validateScenario } from '../../src/scenario/validate.ts';
import type { ScenarioInput } from '../../src/scenario/index.ts';
import demo from '../../scenarios/demo.ts';
import peak from '../../scenarios/peak-hour.ts';
import { base, killAfterSend, tight } from '../e2e/fixtures/defect-scenarios.ts';

/**
 * Inputs per property: enough to find shallow crashes, small enough for a loaded 2-core machine.
 * CHATSTORM_FUZZ_RUNS and CHATSTORM_FUZZ_SEED run a longer or different search by hand.
 */
const NUM_RUNS = Number(process.env['CHATSTORM_FUZZ_RUNS'] ?? 400);
const SEED = Number(process.env['CHATSTORM_FUZZ_SEED'] ?? 0);

/** Tallies for the lead's docs/reliability.md, printed once at the end. */
const tally = { tried: 0, accepted: 0, refused: 0 };

type Outcome = { state: 'ok' } | { state: 'invalid'; err: InvalidScenarioError };

function judge(input: unknown): Outcome {
  tally.tried++;
  try {
    validateScenario(input);
    tally.accepted++;
    return { state: 'ok' };
  } catch (err) {
    // Anything but the invalid-scenario class fails the property, with the input shrunk.
    if (!(err instanceof InvalidScenarioError)) throw new Error(`threw ${String(err)} (${(err as Error)?.constructor?.name})`);
    expect(err.code).toBe('CHATSTORM_ERR_INVALID_SCENARIO');
    expect(err.issues.length).toBeGreaterThan(0);
    for (const i of err.issues) {
      expect(typeof i.path).toBe('string');
      expect(i.message.length).toBeGreaterThan(0);
      expect(err.message).toContain(`${i.path || '(root)'}: `);
    }
    tally.refused++;
    return { state: 'invalid', err };
  }
}

const VALID: ScenarioInput[] = [demo as ScenarioInput, peak as ScenarioInput, base('fuzz'), tight('fuzz'), killAfterSend('fuzz')];

/** Every path to a value inside `v` (objects and arrays), the root excluded. */
function paths(v: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (v === null || typeof v !== 'object') return [];
  const out: (string | number)[][] = [];
  for (const [k, child] of Object.entries(v)) {
    const p = [...prefix, Array.isArray(v) ? Number(k) : k];
    out.push(p, ...paths(child, p));
  }
  return out;
}

/** A path as the validator prints it: `population.agents.count`, `faults[2].network`. */
function format(path: readonly (string | number)[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? p : `.${p}`;
  return out;
}
function at(v: unknown, path: readonly (string | number)[]): unknown {
  for (const k of path) v = (v as Record<string | number, unknown>)[k];
  return v;
}
function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Values of the wrong type, out of range, or absurdly large. */
const weird = fc.oneof(
  fc.anything({ maxDepth: 2 }),
  fc.constantFrom(-1, 0, 1e308, -1e308, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, -0, 0.5, '', ' ', '0', '1ms', '-5s', 'NaN', null, true, [], {}),
  fc.string({ maxLength: 40 }),
  fc.integer(),
  fc.double(),
  fc.nat({ max: 200_000 }).map((n) => 'x'.repeat(n)),
);

type Mutation = { kind: 'replace'; value: unknown } | { kind: 'delete' } | { kind: 'add'; key: string; value: unknown };
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 6, arbitrary: weird.map((value) => ({ kind: 'replace' as const, value })) },
  { weight: 2, arbitrary: fc.constant({ kind: 'delete' as const }) },
  // Identifier-like keys: the validator prints paths unquoted (`a.b[2]`), so a key with a dot or
  // a bracket in it would make the path ambiguous to parse here.
  { weight: 1, arbitrary: fc.tuple(fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,11}$/), weird).map(([key, value]) => ({ kind: 'add' as const, key, value })) },
);

function mutate(s: ScenarioInput, path: (string | number)[], m: Mutation): unknown {
  const copy = structuredClone(s) as unknown as Record<string | number, unknown>;
  let parent: Record<string | number, unknown> = copy;
  for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  if (m.kind === 'replace') parent[last] = m.value;
  else if (m.kind === 'delete') {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
  } else {
    const target = parent[last];
    if (target !== null && typeof target === 'object' && !Array.isArray(target)) (target as Record<string, unknown>)[m.key] = m.value;
    else parent[last] = m.value;
  }
  return copy;
}

describe('scenario validator under garbage', () => {
  it('accepts each valid base scenario', () => {
    for (const s of VALID) expect(judge(s)).toEqual({ state: 'ok' });
  });

  it('throws only InvalidScenarioError, naming paths, for random values', () => {
    fc.assert(fc.property(fc.anything({ maxDepth: 4, withNullPrototype: true, withBoxedValues: true, withMap: true, withSet: true, withDate: true }), (v) => void judge(v)), {
      numRuns: NUM_RUNS,
      seed: SEED + 11,
    });
  });

  it('throws only InvalidScenarioError for random objects with scenario-like keys', () => {
    const keys = ['name', 'seed', 'duration', 'grace', 'networks', 'population', 'traffic', 'faults', 'sla', 'driver'];
    fc.assert(fc.property(fc.dictionary(fc.constantFrom(...keys), weird, { maxKeys: keys.length }), (v) => void judge(v)), { numRuns: NUM_RUNS, seed: SEED + 12 });
  });

  it('names a field that is in the input when a mutation makes a scenario invalid', () => {
    // Not always the mutated one: removing network `agents` is reported where it is referenced
    // (`population.agents.network: unknown network "agents"`), which is the field to fix.
    const cases = fc.integer({ min: 0, max: VALID.length - 1 }).chain((i) => {
      const all = paths(VALID[i]);
      return fc.tuple(fc.constant(i), fc.constantFrom(...all), mutation);
    });
    fc.assert(
      fc.property(cases, ([i, path, m]) => {
        const input = mutate(VALID[i] as ScenarioInput, path, m);
        const out = judge(input);
        if (out.state === 'ok') return;
        // Each issue names a value in the input, or a missing key of an object in the input.
        const nodes = new Map<string, unknown>([['', input], ...paths(input).map((p) => [format(p), at(input, p)] as [string, unknown])]);
        for (const iss of out.err.issues) {
          expect(iss.path, `a mutated scenario reported at the root: ${out.err.message}`).not.toBe('');
          const real =
            nodes.has(iss.path) ||
            [...nodes].some(([p, v]) => v !== null && typeof v === 'object' && new RegExp(`^${escape(p)}${p === '' ? '' : '\\.'}[\\w-]+$`).test(iss.path));
          expect(real, `issue path ${iss.path} names nothing in the input: ${out.err.message}`).toBe(true);
        }
      }),
      { numRuns: NUM_RUNS * 3, seed: SEED + 13 },
    );
  });

  it('reports what it tried', () => {
    expect(tally.tried).toBeGreaterThanOrEqual(NUM_RUNS * 5);
    console.log(`scenario fuzz: ${tally.tried} inputs, ${tally.accepted} accepted, ${tally.refused} refused with InvalidScenarioError`);
  });
});
