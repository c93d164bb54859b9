import { describe, expect, it } from 'vitest';
import { InvalidScenarioError, exitCodeFor } from '../../src/errors.ts';
import { prepare } from '../../src/cli/run-command.ts';
import { buildPlan } from '../../src/plan/plan.ts';
import { QUICK_DURATION_MS, quickScenario, validateQuickSpec } from '../../src/scenario/quick.ts';
import { validateScenario } from '../../src/scenario/validate.ts';

const full = validateScenario({
  name: 'evening',
  duration: '2m',
  grace: '45s',
  networks: { eu: { toxics: [{ name: 'eu-link', type: 'bandwidth', attributes: { rate: 2000 } }] }, cn: {} },
  population: {
    agents: { count: 30, network: 'cn', maxConcurrent: 8 },
    customers: [
      { name: 'eu', count: 300, network: 'eu' },
      { name: 'us', count: 150, network: 'eu' },
    ],
    groups: { count: 8, agents: 2, customers: 4, messagesPerMinute: 4 },
  },
  traffic: {
    arrival: { model: 'ramping', startRatePerSec: 1, stages: [{ duration: '30s', targetPerSec: 8 }, { duration: '90s', targetPerSec: 2 }] },
    thinkTime: { min: '2s', max: '8s' },
    history: { every: '20s', pageSize: 50 },
  },
  faults: [
    { action: 'kill-after-send', at: '30s', network: 'eu', count: 5 },
    { action: 'ramp', at: '60s', duration: '1m', network: 'eu', toxic: 'eu-link', attribute: 'rate', from: 2000, to: 100, steps: 12, hold: '30s' },
    { action: 'outage', at: '90s', duration: '3s', network: 'cn' },
    { action: 'kill', at: '100s', network: 'eu', share: 0.3 },
  ],
  sla: ['loss == 0', 'delivery.p99 < 30s'],
});

describe('quickScenario', () => {
  it('scales the send window, arrival stages and fault times by one factor, and keeps every rate', () => {
    const { scenario: q, timeFactor } = quickScenario(full);
    expect(q.duration).toBe(QUICK_DURATION_MS);
    expect(timeFactor).toBeCloseTo(8 / 120);
    expect(q.traffic.arrival).toEqual({ model: 'ramping', startRatePerSec: 1, stages: [{ duration: 2000, targetPerSec: 8 }, { duration: 6000, targetPerSec: 2 }] });
    expect(q.faults.map((f) => f.at)).toEqual([2000, 4000, 6000, 6667]);
    expect(q.traffic.thinkTime).toEqual(full.traffic.thinkTime);
    expect(q.traffic.history).toEqual(full.traffic.history);
    expect(q.population.groups?.messagesPerMinute).toBe(4);
    expect(q.population.agents[0]?.maxConcurrent).toBe(8);
    expect(q.networks).toEqual(full.networks);
    expect(q.sla).toEqual(full.sla);
    expect(q.seed).toBe(full.seed);
  });

  it('keeps faults at least a second long (or as long as they were) and ramp steps at least 250 ms apart', () => {
    const { scenario: q } = quickScenario(full);
    const ramp = q.faults.find((f) => f.action === 'ramp');
    const outage = q.faults.find((f) => f.action === 'outage');
    // 60 s × 1/15 = 4 s, 30 s hold → 2 s; 3 s outage × 1/15 = 200 ms → 1 s.
    expect(ramp).toMatchObject({ duration: 4000, hold: 2000, steps: 12 });
    expect(outage).toMatchObject({ duration: 1000 });
    const short = quickScenario(full, { duration: '2s' }).scenario.faults.find((f) => f.action === 'ramp');
    expect(short).toMatchObject({ duration: 1000, steps: 4 });
  });

  it('scales the population and fault counts by the time factor, rounding up, never below one', () => {
    const { scenario: q, populationFactor } = quickScenario(full);
    expect(populationFactor).toBeCloseTo(8 / 120);
    expect(q.population.agents.map((a) => a.count)).toEqual([2]);
    expect(q.population.customers.map((c) => c.count)).toEqual([20, 10]);
    expect(q.population.groups).toMatchObject({ count: 1, agents: 2, customers: 4 });
    expect(q.faults.find((f) => f.action === 'kill-after-send')).toMatchObject({ count: 1 });
    expect(q.faults.find((f) => f.action === 'kill')).toMatchObject({ share: 0.3 });
  });

  it('clamps group sizes to the scaled population', () => {
    const { scenario: q } = quickScenario(full, { population: 0.001 });
    expect(q.population.agents[0]?.count).toBe(1);
    expect(q.population.groups).toMatchObject({ agents: 1, customers: 2 });
  });

  it('takes the send window, population share and grace a scenario declares', () => {
    const { scenario: q, note } = quickScenario(full, { duration: '6s', population: 0.5, grace: '7s' });
    expect(q.duration).toBe(6000);
    expect(q.grace).toBe(7000);
    expect(q.population.customers.map((c) => c.count)).toEqual([150, 75]);
    expect(note).toMatch(/send window 2m00s -> 6\.00s .*agents 30 -> 15, customers 450 -> 225, groups 8 -> 4, grace 45\.0s -> 7\.00s/);
  });

  it('scales the grace but keeps at least 5 s of it, and never makes a run longer than the scenario', () => {
    expect(quickScenario(full).scenario.grace).toBe(5000);
    const short = validateScenario({ ...full, duration: '5s', grace: '2s', faults: [] });
    const q = quickScenario(short).scenario;
    expect(q.duration).toBe(5000);
    expect(q.grace).toBe(2000);
    expect(q.population.customers.map((c) => c.count)).toEqual([300, 150]);
  });

  it('gives a plan the same shape, smaller: fewer sends, none after the quick window', () => {
    const fullPlan = buildPlan(full);
    const quickPlan = buildPlan(quickScenario(full).scenario);
    expect(quickPlan.sends.length).toBeGreaterThan(0);
    expect(quickPlan.sends.length).toBeLessThan(fullPlan.sends.length / 4);
    expect(Math.max(...quickPlan.sends.map((s) => s.atMs))).toBeLessThan(QUICK_DURATION_MS);
  });

  it('rejects a bad quick spec naming the field', () => {
    const bad = (spec: unknown) => {
      try {
        validateQuickSpec(spec, 'x.ts');
      } catch (err) {
        expect(err).toBeInstanceOf(InvalidScenarioError);
        expect((err as InvalidScenarioError).code).toBe('CHATSTORM_ERR_INVALID_SCENARIO');
        return (err as InvalidScenarioError).issues.map((i) => i.path);
      }
      throw new Error('expected the spec to be rejected');
    };
    expect(bad({ population: 0 })).toEqual(['quick.population']);
    expect(bad({ population: 2 })).toEqual(['quick.population']);
    expect(bad({ duration: 'soon' })).toEqual(['quick.duration']);
    expect(bad({ duration: 0 })).toEqual(['quick.duration']);
    expect(bad({ seconds: 5 })).toEqual(['quick']);
    expect(bad({ preload: 0 })).toEqual(['quick.preload']);
    expect(bad({ preload: 1.5 })).toEqual(['quick.preload']);
  });

  it('scales preloaded messages by the preload factor, clamps preloaded conversations to the smaller population, and moves the sweep with the time factor', () => {
    const s = validateScenario({
      name: 'deep',
      duration: '60s',
      networks: { n: {} },
      population: { agents: { count: 2, network: 'n' }, customers: { count: 10, network: 'n' } },
      traffic: { history: { preload: [{ conversations: 3, messages: 300_000 }, { conversations: 4, messages: 10 }], sweep: { at: '30s', readers: 4 } } },
    });
    const { scenario: q, note } = quickScenario(s, { population: 0.5, preload: 1 / 3 });
    expect(q.population.customers[0]?.count).toBe(5);
    expect(q.traffic.history?.preload?.map((p) => [p.conversations, p.messages])).toEqual([[3, 100_000], [2, 4]]);
    expect(q.traffic.history?.sweep).toEqual({ at: 4000, readers: 4, pageSize: 200 });
    expect(note).toMatch(/preloaded messages 900040 -> 300008;/);
    // Without a preload factor the full history is kept.
    expect(quickScenario(s).scenario.traffic.history?.preload?.[0]?.messages).toBe(300_000);
  });
});

describe('run --quick (prepare)', () => {
  it("uses the scenario file's own quick export, says what changed, and lets --duration override the window", async () => {
    const p = await prepare({ scenario: 'test/fixtures/quick-declared.ts', quick: true });
    expect(p.scenario.duration).toBe(5000);
    // population: 0.5, not the time factor 5/60 (which would give 1 agent and 4 customers).
    expect(p.scenario.population.agents[0]?.count).toBe(2);
    expect(p.scenario.population.customers[0]?.count).toBe(20);
    expect(p.scenario.faults[0]).toMatchObject({ action: 'outage', at: 2500, duration: 1000 });
    expect(p.notes[0]).toMatch(/^quick mode: send window 1m00s -> 5\.00s/);
    const shorter = await prepare({ scenario: 'test/fixtures/quick-declared.ts', quick: true, durationMs: 3000 });
    expect(shorter.scenario.duration).toBe(3000);
  });

  it('--duration shorter than the sweep start starts the sweep at the end of the window, with a note', async () => {
    const p = await prepare({ scenario: 'scenarios/history-heavy.ts', durationMs: 10_000 });
    const sweep = p.scenario.traffic.history?.sweep;
    expect(sweep && sweep.at).toBe(10_000);
    expect(p.notes).toContainEqual(expect.stringMatching(/^--duration 10000 ms: traffic\.history\.sweep starts at 10000 ms instead of \d+ ms$/));
    expect(p.plan.sweeps?.length ?? 0).toBeGreaterThan(0);
  });

  it('leaves the scenario alone without --quick, whatever the file declares', async () => {
    const p = await prepare({ scenario: 'test/fixtures/quick-declared.ts' });
    expect(p.scenario.duration).toBe(60_000);
    expect(p.notes).toEqual([]);
  });

  it('applies the generic transformation to a scenario without a quick export', async () => {
    const p = await prepare({ scenario: 'test/fixtures/small.ts', quick: true });
    // small.ts is 4 s long: shorter than the quick window, so nothing shrinks.
    expect(p.scenario.duration).toBe(4000);
    expect(p.scenario.population.customers[0]?.count).toBe(12);
    const demo = await prepare({ scenario: 'scenarios/demo.ts', quick: true });
    expect(demo.scenario.duration).toBe(QUICK_DURATION_MS);
    expect(demo.scenario.population.customers[0]?.count).toBe(Math.ceil(200 * (QUICK_DURATION_MS / 30_000)));
  });

  it("refuses a file whose quick export is invalid, naming the field, before anything starts (exit 2)", async () => {
    const err = await prepare({ scenario: 'test/fixtures/quick-invalid.ts', quick: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidScenarioError);
    expect((err as InvalidScenarioError).code).toBe('CHATSTORM_ERR_INVALID_SCENARIO');
    expect((err as InvalidScenarioError).issues).toEqual([{ path: 'quick.population', message: expect.stringMatching(/<=\s*1/) }]);
    expect(exitCodeFor(err)).toBe(2);
  });
});
