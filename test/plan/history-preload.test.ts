import { describe, expect, it } from 'vitest';
import { buildPlan, planHash, type Plan } from '../../src/plan/plan.ts';
import { preloadKey } from '../../src/plan/history-preload.ts';
import { shardPlan } from '../../src/plan/shard.ts';
import { validateScenario } from '../../src/scenario/validate.ts';

const base = {
  name: 'preload',
  seed: 9,
  duration: '60s',
  networks: { eu: {}, cn: {} },
  population: {
    agents: { count: 3, devices: ['desktop', 'mobile'], network: 'cn' },
    customers: { count: 12, devices: ['mobile', 'web'], network: 'eu' },
    groups: { count: 2, agents: 0, customers: 3, messagesPerMinute: 2 },
  },
  traffic: { arrival: { model: 'constant', over: '30s' } },
} as const;
const plan = (history: Record<string, unknown>, seed?: number): Plan =>
  buildPlan(validateScenario({ ...base, ...(seed === undefined ? {} : { seed }), traffic: { ...base.traffic, history } }));

describe('buildPlan: preloaded history', () => {
  it('keeps the rest of the plan unchanged when a preload is added', () => {
    const without = plan({ every: '5s' });
    const { preloads: _p, sweeps: _s, ...rest } = plan({ every: '5s', preload: { conversations: 2, messages: 1000 } });
    expect(JSON.stringify(rest)).toBe(JSON.stringify(without));
    expect('preloads' in without).toBe(false);
  });

  it('picks distinct conversations by the seed, the same for the same seed, and names every preloaded message', () => {
    const h = { preload: [{ conversations: 3, messages: 500, bodyBytes: '128B', spanDays: 30 }, { conversations: 2, messages: 7 }] };
    const p = plan(h);
    expect(planHash(plan(h))).toBe(planHash(p));
    const convs = p.preloads!.map((x) => x.conv);
    expect(new Set(convs).size).toBe(5);
    for (const c of convs) expect(p.conversations.some((x) => x.id === c)).toBe(true);
    expect(p.preloads!.filter((x) => x.messages === 500).every((x) => x.bodyBytes === 128 && x.spanDays === 30)).toBe(true);
    expect(p.preloads!.filter((x) => x.messages === 7)).toHaveLength(2);
    expect(p.preloads![0]!.keyDevice).toBe(`preload-${convs[0]}`);
    expect(preloadKey('dm00003', 17)).toBe('preload-dm00003#17');
    // Another seed, another choice (with 14 conversations, five of them the same set is unlikely; this seed differs).
    expect(plan(h, 10).preloads!.map((x) => x.conv)).not.toEqual(convs);
  });

  it('cuts each preloaded range into `readers` segments that cover it exactly once, walked by the agents of a direct conversation', () => {
    const p = plan({ preload: { conversations: 4, messages: 1001 }, sweep: { at: '3s', readers: 3, pageSize: 100 } });
    expect(p.sweeps!.length).toBe(4 * 3);
    for (const pre of p.preloads!) {
      const segs = p.sweeps!.filter((w) => w.conv === pre.conv);
      expect(segs.map((w) => w.from)).toEqual([0, 333, 667]);
      // Enough pages to reach the next segment's start (or the range's end).
      const ends = [333, 667, 1001];
      segs.forEach((w, i) => expect(w.from + w.pages * w.pageSize).toBeGreaterThanOrEqual(ends[i]!));
      expect(segs.every((w) => w.atMs === 3000 && w.pageSize === 100)).toBe(true);
      const members = p.conversations.find((c) => c.id === pre.conv)!.members;
      const agents = members.filter((m) => m.startsWith('a'));
      const readers = agents.length > 0 ? agents : members;
      for (const w of segs) {
        expect(readers).toContain(w.account);
        expect(p.accounts.find((a) => a.id === w.account)!.devices.map((d) => d.id)).toContain(w.device);
      }
    }
  });

  it('plans no sweep with `sweep: false`, and marks the ranges unswept', () => {
    const p = plan({ preload: { messages: 50 }, sweep: false });
    expect(p.preloads!.map((x) => x.swept)).toEqual([false]);
    expect('sweeps' in p).toBe(false);
    expect(plan({ preload: { messages: 50 } }).preloads!.map((x) => x.swept)).toEqual([true]);
  });

  it('splits preloads and sweeps between shards by conversation, losing none', () => {
    const { groups: _g, ...population } = base.population;
    const whole = buildPlan(validateScenario({ ...base, population, traffic: { ...base.traffic, history: { preload: { conversations: 6, messages: 100 }, sweep: { readers: 2 } } } }));
    const shards = [1, 2].map((index) => shardPlan(whole, { index, count: 2 }));
    const byConv = (a: { conv: string }, b: { conv: string }) => (a.conv < b.conv ? -1 : a.conv > b.conv ? 1 : 0);
    expect(shards.flatMap((s) => s.preloads ?? []).sort(byConv)).toEqual([...whole.preloads!].sort(byConv));
    expect(shards.flatMap((s) => s.sweeps ?? []).length).toBe(whole.sweeps!.length);
    for (const s of shards) {
      const convs = new Set(s.conversations.map((c) => c.id));
      for (const x of [...(s.preloads ?? []), ...(s.sweeps ?? [])]) expect(convs.has(x.conv)).toBe(true);
    }
  });
});
