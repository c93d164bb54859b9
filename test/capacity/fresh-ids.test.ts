import { describe, expect, it } from 'vitest';
import { withFreshIds } from '../../src/capacity/fresh-ids.ts';
import { buildPlan } from '../../src/plan/plan.ts';
import { validateScenario } from '../../src/scenario/index.ts';

const plan = buildPlan(
  validateScenario({
    name: 'ids',
    duration: '5s',
    networks: { n: {} },
    population: { agents: { count: 2, network: 'n' }, customers: { count: 6, network: 'n', devices: ['mobile', 'web'] }, groups: { count: 1 } },
    traffic: { thinkTime: { min: '100ms', max: '300ms' }, history: { every: '1s' } },
    faults: [
      { action: 'kill', at: '1s', network: 'n', share: 0.5 },
      { action: 'kill-after-send', at: '1s', network: 'n', count: 2 },
    ],
  }),
);

describe('withFreshIds', () => {
  it('renames every account, device, conversation and key, and nothing else', () => {
    const p = withFreshIds(plan, 'x1p2');
    const accounts = new Set(p.accounts.map((a) => a.id));
    const devices = new Set(p.accounts.flatMap((a) => a.devices.map((d) => d.id)));
    const convs = new Set(p.conversations.map((c) => c.id));
    expect([...accounts].every((a) => a.endsWith('-x1p2'))).toBe(true);
    expect([...devices].every((d) => d.endsWith('-x1p2'))).toBe(true);
    expect(p.conversations.every((c) => c.members.every((m) => accounts.has(m)))).toBe(true);
    for (const s of p.sends) {
      expect(devices.has(s.device) && accounts.has(s.account) && convs.has(s.conv)).toBe(true);
      expect(s.key.startsWith(`${s.device}#`)).toBe(true);
    }
    for (const r of [...p.reads, ...(p.historyLoads ?? [])]) expect(devices.has(r.device) && accounts.has(r.account) && convs.has(r.conv)).toBe(true);
    const kill = p.faults.find((f) => f.action === 'kill');
    expect(kill?.devices?.length).toBeGreaterThan(0);
    expect(kill?.devices?.every((d) => devices.has(d))).toBe(true);
    const keys = new Set(p.sends.map((s) => s.key));
    const kas = p.faults.find((f) => f.action === 'kill-after-send');
    expect(kas?.keys?.length).toBe(2);
    expect(kas?.keys?.every((k) => keys.has(k))).toBe(true);
    // Times, counters and shape are unchanged.
    expect(p.sends.map((s) => [s.atMs, s.kind, s.bytes, s.key.split('#')[1]])).toEqual(plan.sends.map((s) => [s.atMs, s.kind, s.bytes, s.key.split('#')[1]]));
    expect(p.sendWindowMs).toBe(plan.sendWindowMs);
    expect(p.historyLoads?.length).toBe(plan.historyLoads?.length);
  });

  it('gives two probes disjoint ids', () => {
    const a = new Set(withFreshIds(plan, 'p1').sends.map((s) => s.key));
    expect(withFreshIds(plan, 'p2').sends.some((s) => a.has(s.key))).toBe(false);
  });

  it('refuses a tag that would make ids ambiguous', () => {
    expect(() => withFreshIds(plan, 'a#b')).toThrow(RangeError);
    expect(() => withFreshIds(plan, '')).toThrow(RangeError);
  });
});
