import { describe, expect, it } from 'vitest';
import { buildPlan, planHash, type Plan } from '../../src/plan/plan.ts';
import { validateScenario } from '../../src/scenario/validate.ts';
import peakSmall from '../fixtures/peak-small.ts';

const base = {
  name: 'hist',
  seed: 5,
  duration: '60s',
  networks: { eu: {}, cn: {} },
  population: {
    agents: { count: 3, devices: ['desktop', 'mobile'], network: 'cn' },
    customers: { count: 30, devices: ['mobile', 'web'], network: 'eu' },
  },
  traffic: { arrival: { model: 'constant', over: '30s' } },
} as const;
const plan = (history: Record<string, unknown>, over: Record<string, unknown> = {}): Plan =>
  buildPlan(validateScenario({ ...base, ...over, traffic: { ...base.traffic, history } }));

describe('buildPlan: history loads', () => {
  it('leaves the plan of a scenario without history byte-identical (no history fields, the pinned hash holds)', () => {
    const p = buildPlan(validateScenario(peakSmall));
    expect('history' in p).toBe(false);
    expect('historyLoads' in p).toBe(false);
    expect(planHash(p)).toBe('5dfe2f92f6729fc4b81c8798a0d91b5ea74ec5607b13eef13ccc2cea513e357a');
  });

  it('keeps the rest of the plan unchanged when history is added', () => {
    const without = buildPlan(validateScenario(base));
    const withHistory = plan({ every: '5s', onReconnect: true });
    const { history: _h, historyLoads: _l, ...rest } = withHistory;
    expect(JSON.stringify(rest)).toBe(JSON.stringify(without));
  });

  it('plans one load per account every `every`, at a seeded phase, on a device of the account, of a started conversation', () => {
    const p = plan({ every: '10s', pageSize: 20, pages: 3 });
    expect(p.history).toEqual({ who: 'all', onReconnect: false, pageSize: 20, pages: 3 });
    const loads = p.historyLoads!;
    expect(loads.length).toBeGreaterThan(0);
    const firstSend = new Map<string, number>();
    for (const s of p.sends) if (!firstSend.has(s.conv)) firstSend.set(s.conv, s.atMs);
    const byAccount = new Map<string, number[]>();
    for (const l of loads) {
      const account = p.accounts.find((a) => a.id === l.account)!;
      expect(account.devices.map((d) => d.id)).toContain(l.device);
      const conv = p.conversations.find((c) => c.id === l.conv)!;
      expect(conv.members).toContain(l.account);
      expect(firstSend.get(l.conv)).toBeLessThanOrEqual(l.atMs);
      expect(l.atMs).toBeLessThan(60_000);
      byAccount.set(l.account, [...(byAccount.get(l.account) ?? []), l.atMs]);
    }
    // Consecutive loads of one account are exactly `every` apart (a skipped tick: a multiple of it).
    for (const times of byAccount.values()) {
      for (let i = 1; i < times.length; i++) {
        const gap = times[i]! - times[i - 1]!;
        expect(Math.abs(gap / 10_000 - Math.round(gap / 10_000))).toBeLessThan(1e-6);
      }
    }
    // Agents hold several conversations, and both devices of an account load history.
    expect(new Set(loads.filter((l) => l.account.startsWith('a')).map((l) => l.conv)).size).toBeGreaterThan(3);
    expect(new Set(loads.map((l) => l.device.split('.')[1]))).toEqual(new Set(['mobile0', 'web1', 'desktop0', 'mobile1']));
    const sorted = [...loads].sort((a, b) => a.atMs - b.atMs || (a.device < b.device ? -1 : 1));
    expect(loads).toEqual(sorted);
  });

  it('limits loads to the accounts of `who`', () => {
    const agents = plan({ every: '5s', who: 'agents' }).historyLoads!;
    expect(agents.length).toBeGreaterThan(0);
    expect(agents.every((l) => l.account.startsWith('a'))).toBe(true);
    const customers = plan({ every: '5s', who: 'customers' }).historyLoads!;
    expect(customers.every((l) => l.account.startsWith('c'))).toBe(true);
  });

  it('plans no periodic load for a reconnect-only policy', () => {
    const p = plan({ onReconnect: true, pages: 2 });
    expect(p.history).toEqual({ who: 'all', onReconnect: true, pageSize: 50, pages: 2 });
    expect(p.historyLoads).toEqual([]);
  });

  it('gives the same loads for the same seed and different ones for another seed', () => {
    const a = plan({ every: '3s' });
    expect(JSON.stringify(plan({ every: '3s' }))).toBe(JSON.stringify(a));
    const b = plan({ every: '3s' }, { seed: 6 });
    expect(JSON.stringify(b.historyLoads)).not.toBe(JSON.stringify(a.historyLoads));
  });
});
