import { describe, expect, it } from 'vitest';
import { validateScenario } from '../../src/scenario/validate.ts';
import { parseDuration } from '../../src/scenario/duration.ts';
import { InvalidScenarioError } from '../../src/errors.ts';

const minimal = {
  name: 'mini',
  duration: '5s',
  networks: { lan: {} },
  population: { agents: { count: 1, network: 'lan' }, customers: { count: 2, network: 'lan' } },
};

function issuesOf(input: unknown): { path: string; message: string }[] {
  try {
    validateScenario(input);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidScenarioError);
    expect((err as InvalidScenarioError).code).toBe('CHATSTORM_ERR_INVALID_SCENARIO');
    return [...(err as InvalidScenarioError).issues];
  }
  throw new Error('expected the scenario to be rejected');
}

describe('validateScenario', () => {
  it('fills defaults and normalises durations to milliseconds', () => {
    const s = validateScenario(minimal);
    expect(s.duration).toBe(5000);
    expect(s.grace).toBe(10_000);
    expect(s.seed).toBe(1);
    expect(s.population.agents[0]?.devices).toEqual(['desktop', 'mobile']);
    expect(s.traffic.arrival).toEqual({ model: 'constant' });
    expect(s.networks.lan?.toxics).toEqual([]);
  });

  it('names the path, the expectation and the given value of a bad field', () => {
    const issues = issuesOf({ ...minimal, population: { ...minimal.population, agents: { count: 0, network: 'lan' } } });
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe('population.agents.count');
    expect(issues[0]?.message).toMatch(/>=\s*1/);
    expect(issues[0]?.message).toContain('given 0');
  });

  it('rejects a network that is not declared and lists the declared ones', () => {
    const issues = issuesOf({ ...minimal, population: { ...minimal.population, customers: { count: 2, network: 'wan' } } });
    expect(issues.map((i) => i.path)).toEqual(['population.customers.network']);
    expect(issues[0]?.message).toContain('declared networks: lan');
  });

  it('rejects a malformed duration with the column where it went wrong', () => {
    const issues = issuesOf({ ...minimal, duration: '30 seconds' });
    expect(issues[0]?.path).toBe('duration');
    expect(issues[0]?.message).toContain('"30s"');
  });

  it('rejects unknown fields instead of ignoring a typo', () => {
    const issues = issuesOf({ ...minimal, duraton: '5s' });
    expect(issues.some((i) => i.message.includes('duraton'))).toBe(true);
  });

  it('rejects a fault scheduled after the end of the send window', () => {
    const issues = issuesOf({
      ...minimal,
      faults: [{ action: 'outage', at: '10s', duration: '1s', network: 'lan' }],
    });
    expect(issues[0]?.path).toBe('faults[0].at');
  });

  it('reports every bad field at once', () => {
    const issues = issuesOf({ ...minimal, name: 'Bad Name', seed: -1 });
    expect(issues.map((i) => i.path).sort()).toEqual(['name', 'seed']);
  });
});

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['2m', 120_000],
    ['1m30s', 90_000],
    ['250us', 0.25],
    [1500, 1500],
  ])('parses %s', (input, ms) => {
    expect(parseDuration(input)).toEqual({ ok: true, ms });
  });

  it.each(['', '10', '5 s', 'abc', '1x'])('rejects %j', (input) => {
    expect(parseDuration(input).ok).toBe(false);
  });
});
