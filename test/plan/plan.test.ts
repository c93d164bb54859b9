import { describe, expect, it } from 'vitest';
import { buildPlan, planHash } from '../../src/plan/plan.ts';
import { Random } from '../../src/plan/random.ts';
import { validateScenario } from '../../src/scenario/validate.ts';
import demo from '../../scenarios/demo.ts';

describe('buildPlan', () => {
  it('gives a byte-identical plan for the same scenario and seed', () => {
    const s = validateScenario(demo);
    const a = buildPlan(s);
    const b = buildPlan(validateScenario(demo));
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(planHash(a)).toBe(planHash(b));
  });

  it('gives a different plan for a different seed', () => {
    const s = validateScenario(demo);
    expect(planHash(buildPlan(s, 1))).not.toBe(planHash(buildPlan(s, 2)));
  });

  it('keeps every send inside the send window, sorted, with per-device counters from 1', () => {
    const s = validateScenario(demo);
    const p = buildPlan(s);
    expect(p.sends.length).toBeGreaterThan(500);
    let prev = -1;
    const last = new Map<string, number>();
    for (const send of p.sends) {
      expect(send.atMs).toBeGreaterThanOrEqual(prev);
      expect(send.atMs).toBeLessThan(s.duration);
      prev = send.atMs;
      const [device, n] = send.key.split('#');
      expect(device).toBe(send.device);
      expect(Number(n)).toBe((last.get(send.device) ?? 0) + 1);
      last.set(send.device, Number(n));
    }
  });

  it('never gives an agent more concurrent conversations than its cap', () => {
    const s = validateScenario({ ...demo, population: { ...demo.population, agents: { ...demo.population.agents, count: 2, maxConcurrent: 3 } } });
    const p = buildPlan(s);
    const spans = new Map<string, [number, number][]>();
    for (const c of p.conversations) {
      const sends = p.sends.filter((x) => x.conv === c.id);
      if (sends.length === 0) continue;
      const agent = c.members.find((m) => m.startsWith('a')) as string;
      const list = spans.get(agent) ?? [];
      list.push([c.openMs, (sends[sends.length - 1]?.atMs ?? c.openMs)]);
      spans.set(agent, list);
    }
    for (const list of spans.values()) {
      for (const [start] of list) {
        const overlapping = list.filter(([a, b]) => a <= start && b > start).length;
        expect(overlapping).toBeLessThanOrEqual(3);
      }
    }
  });

  it('names every fault and keeps its window', () => {
    const p = buildPlan(validateScenario(demo));
    expect(p.faults).toEqual([
      expect.objectContaining({ id: 'f0', network: 'eu-customers', action: 'toxic', startMs: 14_000, endMs: 17_000 }),
    ]);
    expect(p.faults[0]?.toxic?.name).toBe('chatstorm_f0_latency');
  });
});

describe('Random', () => {
  it('repeats its stream for a seed', () => {
    const a = new Random(7);
    const b = new Random(7);
    const xs = Array.from({ length: 5 }, () => a.uint32());
    expect(Array.from({ length: 5 }, () => b.uint32())).toEqual(xs);
    // Pinned values: a change here breaks the replay of every saved incident seed.
    expect(xs.slice(0, 3)).toEqual([838155491, 1550620431, 3610122010]);
  });

  it('draws integers within bounds and with every value reachable', () => {
    const r = new Random(1);
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      const v = r.int(3, 6);
      expect(v).toBeGreaterThanOrEqual(3);
      expect(v).toBeLessThanOrEqual(6);
      seen.add(v);
    }
    expect([...seen].sort()).toEqual([3, 4, 5, 6]);
  });
});
