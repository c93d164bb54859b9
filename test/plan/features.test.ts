import { describe, expect, it } from 'vitest';
import { buildPlan, planHash, type Plan } from '../../src/plan/plan.ts';
import { validateScenario } from '../../src/scenario/validate.ts';
import { InvalidScenarioError } from '../../src/errors.ts';
import peakSmall from '../fixtures/peak-small.ts';

const base = {
  name: 'feat',
  seed: 3,
  duration: '60s',
  networks: { eu: {}, us: {}, cn: {} },
  population: { agents: { count: 4, network: 'cn' }, customers: { count: 40, devices: ['mobile', 'web', 'desktop'], network: 'eu' } },
};
const plan = (over: Record<string, unknown> = {}): Plan => buildPlan(validateScenario({ ...base, ...over }));

describe('buildPlan: pinned stream', () => {
  it('gives the pinned plan hash for a fixed small scenario that uses every feature', () => {
    // A change here changes every replay of a saved incident: update the pin only on purpose.
    expect(planHash(buildPlan(validateScenario(peakSmall)))).toBe('5dfe2f92f6729fc4b81c8798a0d91b5ea74ec5607b13eef13ccc2cea513e357a');
  });

  it('gives byte-identical plans for every feature when built twice', () => {
    const a = JSON.stringify(buildPlan(validateScenario(peakSmall)));
    const b = JSON.stringify(buildPlan(validateScenario(structuredClone(peakSmall))));
    expect(a).toBe(b);
  });
});

describe('buildPlan: population', () => {
  it('puts each customer segment on its own network and interleaves their arrivals', () => {
    const p = plan({
      population: {
        agents: { count: 2, network: 'cn' },
        customers: [
          { name: 'eu', count: 10, network: 'eu' },
          { name: 'us', count: 10, network: 'us' },
        ],
      },
    });
    const customers = p.accounts.filter((a) => a.role === 'customer');
    expect(customers.filter((c) => c.network === 'eu').map((c) => c.segment)).toEqual(Array(10).fill('eu'));
    expect(customers.filter((c) => c.network === 'us')).toHaveLength(10);
    const first10 = p.conversations.slice(0, 10).map((c) => customers.find((x) => x.id === c.members[0])!.network);
    expect(new Set(first10)).toEqual(new Set(['eu', 'us']));
  });

  it('creates group chats with the requested agents and customers and traffic from several members', () => {
    const p = plan({ population: { ...base.population, groups: { count: 3, agents: 2, customers: 3, messagesPerMinute: 60 } } });
    const groups = p.conversations.filter((c) => c.kind === 'group');
    expect(groups).toHaveLength(3);
    for (const g of groups) {
      expect(g.members.filter((m) => m.startsWith('a'))).toHaveLength(2);
      expect(g.members.filter((m) => m.startsWith('c'))).toHaveLength(3);
      expect(new Set(g.members).size).toBe(5);
      const senders = new Set(p.sends.filter((s) => s.conv === g.id).map((s) => s.account));
      expect(senders.size).toBeGreaterThan(1);
      for (const s of senders) expect(g.members).toContain(s);
    }
  });
});

describe('buildPlan: agents and queue', () => {
  it('never gives an agent more concurrent conversations than its cap, and queues the rest in arrival order', () => {
    const p = plan({
      population: { agents: { count: 2, maxConcurrent: 2, network: 'cn' }, customers: { count: 30, network: 'eu' } },
      traffic: { arrival: { model: 'constant', over: '2s' }, messagesPerCustomer: { min: 2, max: 3 }, thinkTime: { min: '1s', max: '2s' } },
    });
    const direct = p.conversations.filter((c) => c.kind === 'direct');
    for (const agent of ['a0001', 'a0002']) {
      const mine = direct.filter((c) => c.members.includes(agent));
      for (const c of mine) {
        const overlapping = mine.filter((o) => o.openMs <= c.openMs && (o.closeMs as number) > c.openMs).length;
        expect(overlapping).toBeLessThanOrEqual(2);
      }
    }
    // FIFO: nobody who arrived later starts earlier.
    for (let i = 1; i < direct.length; i++) expect(direct[i]!.openMs).toBeGreaterThanOrEqual(direct[i - 1]!.openMs);
    // The queue formed: later customers waited past the arrival window.
    expect(direct[direct.length - 1]!.openMs).toBeGreaterThan(2000);
  });

  it('plans 100,000 customers over 2,000 agents', () => {
    const p = plan({
      duration: '10m',
      population: { agents: { count: 2000, devices: ['desktop'], maxConcurrent: 30, network: 'cn' }, customers: { count: 100_000, network: 'eu' } },
      traffic: { arrival: { model: 'constant', over: '60s' }, messagesPerCustomer: { min: 1, max: 2 } },
    });
    expect(p.conversations).toHaveLength(100_000);
    // Sweep opens and closes per agent: at no time more than the cap.
    const edges = p.conversations.flatMap((c) => [
      { agent: c.members[1]!, atMs: c.openMs, d: 1 },
      { agent: c.members[1]!, atMs: c.closeMs as number, d: -1 },
    ]);
    edges.sort((a, b) => a.atMs - b.atMs || a.d - b.d);
    const open = new Map<string, number>();
    let worst = 0;
    for (const e of edges) {
      const n = (open.get(e.agent) ?? 0) + e.d;
      open.set(e.agent, n);
      worst = Math.max(worst, n);
    }
    expect(worst).toBeGreaterThan(1);
    expect(worst).toBeLessThanOrEqual(30);
  });
});

describe('buildPlan: conversations', () => {
  it('sends bursts of customer messages within the burst gap', () => {
    const p = plan({
      traffic: { burst: { probability: 1, size: { min: 3, max: 3 }, gap: { min: '100ms', max: '200ms' } }, messagesPerCustomer: { min: 1, max: 1 }, agentReplyProbability: 0 },
    });
    const byConv = new Map<string, number[]>();
    for (const s of p.sends) byConv.set(s.conv, [...(byConv.get(s.conv) ?? []), s.atMs]);
    const full = [...byConv.values()].filter((t) => t.length === 3);
    expect(full.length).toBeGreaterThan(30);
    for (const t of full) {
      expect(t[1]! - t[0]!).toBeGreaterThanOrEqual(100);
      expect(t[2]! - t[1]!).toBeLessThanOrEqual(200);
    }
  });

  it('lets a customer continue on another of its devices mid-conversation, and read on a background device', () => {
    const p = plan({ traffic: { multiDevice: { switchProbability: 0.5, readOnOtherDevice: 0.5 } } });
    const switched = p.accounts.filter((a) => a.role === 'customer' && new Set(p.sends.filter((s) => s.account === a.id).map((s) => s.device)).size > 1);
    expect(switched.length).toBeGreaterThan(5);
    const agentReadDevices = new Set(p.reads.filter((r) => r.account.startsWith('a')).map((r) => r.device.split('.')[1]));
    expect(agentReadDevices).toEqual(new Set(['desktop0', 'mobile1']));
  });

  it('keeps every customer on its first device when switching is off', () => {
    const p = plan();
    for (const s of p.sends.filter((x) => x.account.startsWith('c'))) expect(s.device.endsWith('.mobile0')).toBe(true);
  });

  it('closes each direct conversation after its last message plus the wrap-up', () => {
    const p = plan({ traffic: { wrapUp: '5s' } });
    for (const c of p.conversations) {
      const last = Math.max(c.openMs, ...p.sends.filter((s) => s.conv === c.id).map((s) => s.atMs));
      expect(c.closeMs).toBeCloseTo(last + 5000, 2);
    }
  });
});

describe('buildPlan: payload mix', () => {
  it('draws sizes inside each kind range, attachments as sizes, and multi-attachment bursts of images and a document', () => {
    const p = plan({
      traffic: {
        mix: { text: 1, 'long-text': 1, image: 1, file: 1, 'multi-attachment': 1 },
        sizes: { 'long-text': { min: '10KB', max: '64KB' }, image: { min: '30KB', max: '2MB' }, file: { min: '100KB', max: '10MB' } },
        multiAttachment: { images: { min: 2, max: 4 }, files: { min: 1, max: 1 } },
      },
    });
    const kinds = new Set(p.sends.map((s) => s.kind));
    expect(kinds).toEqual(new Set(['text', 'long-text', 'image', 'file']));
    for (const s of p.sends) {
      if (s.kind === 'long-text') expect(s.bytes).toBeGreaterThanOrEqual(10 * 1024);
      if (s.kind === 'long-text') expect(s.bytes).toBeLessThanOrEqual(64 * 1024);
      if (s.kind === 'text') expect(s.attachments).toBeUndefined();
      for (const a of s.attachments ?? []) {
        expect(a).toBeGreaterThanOrEqual(30 * 1024);
        expect(a).toBeLessThanOrEqual(10 * 1024 * 1024);
      }
    }
    const multi = p.sends.filter((s) => (s.attachments?.length ?? 0) > 1);
    expect(multi.length).toBeGreaterThan(5);
    for (const m of multi) {
      expect(m.attachments!.length).toBeGreaterThanOrEqual(3);
      expect(m.attachments!.length).toBeLessThanOrEqual(5);
    }
  });
});

describe('buildPlan: faults', () => {
  it('ramps an attribute in even steps over the window and holds it', () => {
    const p = plan({
      networks: { ...base.networks, eu: { toxics: [{ name: 'bw', type: 'bandwidth', attributes: { rate: 1000 } }] } },
      faults: [{ action: 'ramp', at: '10s', duration: '1m', network: 'eu', toxic: 'bw', attribute: 'rate', from: 1000, to: 10, steps: 3, hold: '5s' }],
    });
    const f = p.faults[0]!;
    expect(f.ramp?.steps).toEqual([
      { atMs: 10_000, value: 1000 },
      { atMs: 30_000, value: 670 },
      { atMs: 50_000, value: 340 },
      { atMs: 70_000, value: 10 },
    ]);
    expect(f.endMs).toBe(75_000);
  });

  it('kills after the first sends on the network at or after the time, one per device', () => {
    const p = plan({ faults: [{ action: 'kill-after-send', at: '20s', network: 'eu', count: 3 }] });
    const f = p.faults[0]!;
    const expected: string[] = [];
    const seen = new Set<string>();
    for (const s of p.sends) {
      if (s.atMs < 20_000 || !s.account.startsWith('c') || seen.has(s.device) || expected.length === 3) continue;
      expected.push(s.key);
      seen.add(s.device);
    }
    expect(f.keys).toEqual(expected);
  });

  it('kills a share of the network devices at once, chosen by the seed', () => {
    const p = plan({ faults: [{ action: 'kill', at: '5s', network: 'eu', share: 0.25 }] });
    expect(p.faults[0]!.devices).toHaveLength(30);
    expect(new Set(p.faults[0]!.devices).size).toBe(30);
    for (const d of p.faults[0]!.devices!) expect(d.startsWith('c')).toBe(true);
  });

  it('refuses a kill during upload when the mix has no attachments, naming the fault', () => {
    expect(() => plan({ faults: [{ action: 'kill-during-upload', at: '5s', network: 'eu' }] })).toThrow(InvalidScenarioError);
    try {
      plan({ faults: [{ action: 'kill-during-upload', at: '5s', network: 'eu' }] });
    } catch (err) {
      expect((err as InvalidScenarioError).issues[0]?.path).toBe('faults[0]');
      expect((err as InvalidScenarioError).issues[0]?.message).toContain('add image, file or multi-attachment to traffic.mix');
    }
  });
});
