import { describe, expect, it } from 'vitest';
import { buildPlan, planHash, type Plan } from '../../src/plan/plan.ts';
import { assignShards, parseShardSpec, shardLayout, shardPlan } from '../../src/plan/shard.ts';
import { validateScenario } from '../../src/scenario/validate.ts';
import { UsageError } from '../../src/errors.ts';
import demo from '../../scenarios/demo.ts';

/** Groups, a queue (agents capped at 2 conversations), multi-device accounts, kills and history loads. */
const busy = {
  name: 'busy',
  seed: 3,
  duration: '20s',
  grace: '5s',
  networks: { customers: {}, agents: {} },
  population: {
    agents: { count: 8, devices: ['desktop', 'mobile'], network: 'agents', maxConcurrent: 2 },
    customers: { count: 60, devices: ['mobile', 'web'], network: 'customers' },
    groups: { count: 3, agents: 1, customers: 2, messagesPerMinute: 30 },
  },
  traffic: {
    arrival: { model: 'poisson', ratePerSec: 6 },
    messagesPerCustomer: { min: 2, max: 6 },
    thinkTime: { min: '300ms', max: '1s' },
    multiDevice: { switchProbability: 0.3, readOnOtherDevice: 0.3 },
    history: { every: '5s', pageSize: 10, pages: 2 },
    mix: { text: 0.7, emoji: 0.1, image: 0.2 },
  },
  faults: [
    { action: 'kill', at: '5s', network: 'customers', share: 0.3 },
    { action: 'kill-after-send', at: '2s', network: 'customers', count: 5 },
    { action: 'toxic', at: '8s', duration: '2s', network: 'agents', toxic: { type: 'latency', attributes: { latency: 300 } } },
  ],
  sla: ['loss == 0'],
};

const byTimeDeviceKey = (a: { atMs: number; device: string; key?: string; conv: string }, b: typeof a) =>
  a.atMs - b.atMs || (a.device < b.device ? -1 : a.device > b.device ? 1 : 0) || ((a.key ?? a.conv) < (b.key ?? b.conv) ? -1 : (a.key ?? a.conv) > (b.key ?? b.conv) ? 1 : 0);

/** Assert the shards of `whole` are disjoint and together are the whole plan. */
function expectPartition(whole: Plan, shards: Plan[]): void {
  const accounts = shards.flatMap((p) => p.accounts.map((a) => a.id));
  expect(new Set(accounts).size).toBe(accounts.length);
  expect([...accounts].sort()).toEqual(whole.accounts.map((a) => a.id).sort());
  const convs = shards.flatMap((p) => p.conversations.map((c) => c.id));
  expect(new Set(convs).size).toBe(convs.length);
  expect([...convs].sort()).toEqual(whole.conversations.map((c) => c.id).sort());
  // Same sends, same times, same keys (and every other field).
  expect(shards.flatMap((p) => p.sends).sort(byTimeDeviceKey)).toEqual([...whole.sends].sort(byTimeDeviceKey));
  expect(shards.flatMap((p) => p.reads).sort(byTimeDeviceKey)).toEqual([...whole.reads].sort(byTimeDeviceKey));
  expect(shards.flatMap((p) => p.historyLoads ?? []).sort(byTimeDeviceKey)).toEqual([...(whole.historyLoads ?? [])].sort(byTimeDeviceKey));
  for (const p of shards) {
    // Every check of a message stays inside the shard: all members, senders and readers are here.
    const here = new Set(p.accounts.map((a) => a.id));
    const devices = new Set(p.accounts.flatMap((a) => a.devices.map((d) => d.id)));
    const convsHere = new Set(p.conversations.map((c) => c.id));
    for (const c of p.conversations) for (const m of c.members) expect(here.has(m)).toBe(true);
    for (const s of p.sends) expect(here.has(s.account) && convsHere.has(s.conv) && devices.has(s.device)).toBe(true);
    for (const r of p.reads) expect(convsHere.has(r.conv) && devices.has(r.device)).toBe(true);
    for (const f of p.faults) for (const d of f.devices ?? []) expect(devices.has(d)).toBe(true);
    expect(p.networks).toEqual(whole.networks);
    expect(p.shard?.wholePlanHash).toBe(planHash(whole));
    // Sends keep the whole plan's order within the shard.
    expect(p.sends).toEqual(whole.sends.filter((s) => here.has(s.account)));
  }
  // One fault timeline: every shard has every fault, kills narrowed to its devices and sends.
  whole.faults.forEach((f, i) => {
    for (const p of shards) {
      const g = p.faults[i];
      expect({ ...g, devices: undefined, keys: undefined }).toEqual({ ...f, devices: undefined, keys: undefined });
    }
    if (f.devices) expect(shards.flatMap((p) => p.faults[i]?.devices ?? []).sort()).toEqual([...f.devices].sort());
    if (f.keys) expect(shards.flatMap((p) => p.faults[i]?.keys ?? []).sort()).toEqual([...f.keys].sort());
  });
}

describe('shardPlan', () => {
  for (const seed of [1, 2, 3, 17, 99]) {
    it(`splits a plan with groups, a queue and multi-device accounts into disjoint shards that make the whole (seed ${seed})`, () => {
      const whole = buildPlan(validateScenario(busy), seed);
      const layout = shardLayout(whole);
      expect(layout.maxShards).toBeGreaterThanOrEqual(2);
      // The groups joined some agents' teams: fewer units than agents, each at least one agent.
      expect(layout.maxShards).toBeLessThan(8);
      expect(whole.sends.some((s) => s.conv.startsWith('grp'))).toBe(true);
      for (const n of new Set([1, 2, Math.min(3, layout.maxShards), layout.maxShards])) {
        const shards = Array.from({ length: n }, (_, i) => shardPlan(whole, { index: i + 1, count: n }, layout));
        expectPartition(whole, shards);
        if (n > 1) for (const p of shards) expect(p.sends.length).toBeGreaterThan(0);
      }
    });
  }

  it('gives byte-identical shard plans for the same plan', () => {
    const a = shardPlan(buildPlan(validateScenario(demo)), { index: 2, count: 3 });
    const b = shardPlan(buildPlan(validateScenario(demo)), { index: 2, count: 3 });
    expect(planHash(a)).toBe(planHash(b));
  });

  it('keeps each agent with the customers the agent pool gave it, and balances the load', () => {
    const whole = buildPlan(validateScenario(demo));
    const layout = shardLayout(whole);
    expect(layout.maxShards).toBe(20);
    const shards = assignShards(whole, 4, layout);
    const sends = shards.map((ids) => whole.sends.filter((s) => ids.includes(s.account)).length);
    expect(Math.max(...sends) / Math.min(...sends)).toBeLessThan(1.5);
    for (const c of whole.conversations) {
      expect(shards.filter((ids) => c.members.every((m) => ids.includes(m))).length).toBe(1);
    }
  });

  it('refuses more shards than units, saying that one group holding everybody cannot be split', () => {
    const s = validateScenario({ ...busy, population: { ...busy.population, groups: { count: 1, agents: 8, customers: 60 } } });
    const whole = buildPlan(s);
    expect(shardLayout(whole).maxShards).toBe(1);
    const err = (() => {
      try {
        shardPlan(whole, { index: 1, count: 2 });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).code).toBe('CHATSTORM_ERR_USAGE');
    expect((err as UsageError).message).toMatch(/splits into at most 1 shard, not 2: group chats \(1\) link every agent's team into one unit.*run it whole/);
  });

  it('says so when one agent serves every customer', () => {
    const whole = buildPlan(validateScenario({ ...busy, population: { ...busy.population, agents: { ...busy.population.agents, count: 1 }, groups: undefined } }));
    expect(() => assignShards(whole, 2)).toThrow(/at most 1 shard, not 2: one agent serves every customer/);
  });

  it('refuses to shard a shard', () => {
    const one = shardPlan(buildPlan(validateScenario(demo)), { index: 1, count: 2 });
    expect(() => shardPlan(one, { index: 1, count: 2 })).toThrow(/already shard 1\/2/);
  });
});

describe('parseShardSpec', () => {
  it('reads i/n counting from 1', () => {
    expect(parseShardSpec('2/4')).toEqual({ index: 2, count: 4 });
  });
  it.each(['0/4', '5/4', '2', 'a/b', '1/0'])('refuses %s naming the flag and the form', (text) => {
    expect(() => parseShardSpec(text)).toThrow(UsageError);
    expect(() => parseShardSpec(text)).toThrow(/--shard expects/);
  });
});
