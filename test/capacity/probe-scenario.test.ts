import { describe, expect, it } from 'vitest';
import { offeredRateOf, probeScenario, scaleScenario, shortenScenario } from '../../src/capacity/probe-scenario.ts';
import { buildPlan, planHash } from '../../src/plan/plan.ts';
import { validateScenario, type ScenarioInput } from '../../src/scenario/index.ts';
import { UsageError } from '../../src/errors.ts';

const base: ScenarioInput = {
  name: 'shape',
  seed: 5,
  duration: '60s',
  grace: '20s',
  networks: { eu: { toxics: [{ type: 'latency', attributes: { latency: 80 } }] }, cn: {} },
  population: {
    agents: { count: 4, network: 'cn', maxConcurrent: 1000 },
    customers: [
      { name: 'eu', count: 30, network: 'eu' },
      { name: 'us', count: 10, network: 'eu' },
    ],
  },
  traffic: { arrival: { model: 'poisson', ratePerSec: 2 }, messagesPerCustomer: { min: 2, max: 4 }, thinkTime: { min: '200ms', max: '600ms' } },
  faults: [
    { action: 'toxic', at: '2s', network: 'eu', toxic: { type: 'latency', attributes: { latency: 500 } } },
    { action: 'outage', at: '30s', network: 'eu', duration: '1s' },
  ],
  sla: ['delivery.p99 < 2s'],
};
const W = { durationMs: 5000, graceMs: 3000 };

describe('probeScenario', () => {
  it('offers the chosen rate within 5 %, and reports the rate its plan really offers', () => {
    const s = validateScenario(base);
    for (const target of [5, 40, 300]) {
      const p = probeScenario(s, target, W);
      // Customers are whole, and each count draws its own seeded conversations: a few per cent of noise.
      expect(Math.abs(p.offeredPerS - target) / target).toBeLessThanOrEqual(0.05);
      expect(p.offeredPerS).toBe(offeredRateOf(p.plan));
      expect(p.capped).toBeNull();
    }
  });

  it('scales customers, keeps the agents, networks and conversation shape, and spreads arrivals over the window', () => {
    const s = validateScenario(base);
    const p = probeScenario(s, 100, W);
    expect(p.factor).toBeGreaterThan(1);
    expect(p.scenario.population.agents).toEqual(s.population.agents);
    expect(p.scenario.networks).toEqual(s.networks);
    expect(p.scenario.traffic.messagesPerCustomer).toEqual(s.traffic.messagesPerCustomer);
    expect(p.scenario.traffic.thinkTime).toEqual(s.traffic.thinkTime);
    expect(p.scenario.traffic.arrival).toEqual({ model: 'constant', over: 5000 });
    // Both segments grow by the same factor.
    const [eu, us] = p.scenario.population.customers;
    expect(eu!.count / us!.count).toBeCloseTo(3, 0);
    expect(p.customers).toBe(eu!.count + us!.count);
    expect(p.scenario.sla).toEqual(s.sla);
  });

  it('shortens the window and grace and drops the faults after the window', () => {
    const s = shortenScenario(validateScenario(base), W);
    expect(s.duration).toBe(5000);
    expect(s.grace).toBe(3000);
    expect(s.faults.map((f) => f.at)).toEqual([2000]);
    // Never a longer grace than the scenario's own.
    expect(shortenScenario(validateScenario(base), { durationMs: 5000, graceMs: 60_000 }).grace).toBe(20_000);
  });

  it('is deterministic: the same rate gives the same plan', () => {
    const s = validateScenario(base);
    expect(planHash(probeScenario(s, 50, W).plan)).toBe(planHash(probeScenario(s, 50, W).plan));
  });

  it('says the scenario cannot offer a rate its agents cannot take on', () => {
    const s = validateScenario({ ...base, population: { ...base.population, agents: { count: 1, network: 'cn', maxConcurrent: 2 } } });
    const p = probeScenario(s, 500, W);
    expect(p.offeredPerS).toBeLessThan(450);
    expect(p.capped).toMatch(/1 agent\(s\) take 2 conversations each at once/);
    expect(p.capped).toMatch(/raise population\.agents count or maxConcurrent/);
  });

  it('scales group chat message rates with the same factor', () => {
    const s = shortenScenario(validateScenario({ ...base, population: { ...base.population, groups: { count: 5, messagesPerMinute: 60 } } }), W);
    expect(scaleScenario(s, 3).population.groups?.messagesPerMinute).toBe(180);
    // A scaled-down population keeps the customers a group needs.
    const small = scaleScenario(s, 0.01);
    expect(small.population.customers.reduce((n, c) => n + c.count, 0)).toBeGreaterThanOrEqual(3);
  });

  it('refuses a scenario that plans no messages in the probe window', () => {
    const s = validateScenario({ ...base, traffic: { ...base.traffic, messagesPerCustomer: { min: 0, max: 0 } } });
    expect(() => probeScenario(s, 10, W)).toThrow(UsageError);
    expect(() => probeScenario(s, 10, W)).toThrow(/plans no messages in the second half of a 5000 ms probe window; lengthen the probes \(--probe-duration\)/);
  });
});

describe('offeredRateOf', () => {
  it('counts the sends of the second half of the window per second', () => {
    const plan = buildPlan(validateScenario({ ...base, duration: '4s', faults: [] }));
    const n = plan.sends.filter((s) => s.atMs >= 2000).length;
    expect(offeredRateOf(plan)).toBe(n / 2);
  });
});
