/**
 * The contract kit's pure parts: the scenario asks only for what the driver declares, and the
 * checklist says `not-checked` with the reason where the driver's capabilities cannot support an
 * item, `fail` where the run shows a broken contract.
 */
import { describe, expect, it } from 'vitest';
import { contractFacts, contractScenario, judgeContract } from '../../src/drivers/contract-test.ts';
import { checkScenarioForDriver } from '../../src/drivers/capabilities.ts';
import { referenceDriver } from '../../src/drivers/reference.ts';
import { validateScenario } from '../../src/scenario/validate.ts';
import type { Driver } from '../../src/drivers/driver.ts';
import type { HistoryEvent } from '../../src/history/events.ts';
import type { Summary } from '../../src/report/summary.ts';

const bare: Driver = {
  ...referenceDriver,
  name: 'bare',
  capabilities: { ...referenceDriver.capabilities, kinds: ['text'], attachments: false, historyPages: false, groups: false, serverIds: 'none', resumption: false },
} as Driver;

const pass = (name: string) => ({ name, status: 'pass' as const, count: 0, witnesses: [] });

function summary(checks: Summary['checks']): Summary {
  return { checks, connections: { attempts: 2, failed: 0, failedByStep: {}, topReasons: [] } } as unknown as Summary;
}

const history: HistoryEvent[] = [
  { type: 'account', atMs: 0, account: 'a1', role: 'agent', devices: ['a1d1', 'a1d2'], network: 'lan' },
  { type: 'account', atMs: 0, account: 'c1', role: 'customer', devices: ['c1d1'], network: 'wan' },
  ...['a1d1', 'a1d2', 'c1d1'].map((device) => ({ type: 'connected' as const, atMs: 1, device, tookMs: 1 })),
  { type: 'send', atMs: 10, device: 'a1d1', account: 'a1', conv: 'dm1', key: 'a1d1#1', kind: 'text', bytes: 10, intendedMs: 10, attempt: 1 },
  { type: 'fault', atMs: 11, phase: 'start', fault: 'f0.1', network: 'lan', action: 'kill-after-send', description: '', devices: ['a1d1'], key: 'a1d1#1' },
  { type: 'send', atMs: 20, device: 'a1d1', account: 'a1', conv: 'dm1', key: 'a1d1#1', kind: 'text', bytes: 10, intendedMs: 10, attempt: 2 },
  { type: 'ack', atMs: 21, device: 'a1d1', conv: 'dm1', key: 'a1d1#1' },
  { type: 'deliver', atMs: 22, device: 'a1d2', account: 'a1', conv: 'dm1', key: 'a1d1#1', from: 'a1d1', replay: false },
  { type: 'deliver', atMs: 22, device: 'c1d1', account: 'c1', conv: 'dm1', key: 'a1d1#1', from: 'a1d1', replay: false },
  { type: 'fault', atMs: 30, phase: 'start', fault: 'f1', network: 'wan', action: 'kill', description: '', devices: ['c1d1'] },
  { type: 'send', atMs: 40, device: 'c1d1', account: 'c1', conv: 'dm1', key: 'c1d1#1', kind: 'text', bytes: 10, intendedMs: 40, attempt: 1 },
] as HistoryEvent[];

describe('contract kit', () => {
  it('plans no group, attachment or history load for a driver that declares none, and the scenario is valid for it', () => {
    const s = validateScenario(contractScenario(bare));
    expect(s.population.groups?.count ?? 0).toBe(0);
    expect(Object.keys(s.traffic.mix).filter((k) => (s.traffic.mix as Record<string, number>)[k]! > 0)).toEqual(['text']);
    expect(s.traffic.history).toBeUndefined();
    expect(() => checkScenarioForDriver(s, bare)).not.toThrow();
    const full = validateScenario(contractScenario(referenceDriver));
    expect(full.population.groups?.count).toBe(1);
    expect(full.traffic.mix.image).toBeGreaterThan(0);
    expect(full.traffic.history).toBeDefined();
    expect(full.faults.map((f) => f.action)).toEqual(['kill-after-send', 'kill', 'outage']);
  });

  it('fails connect, send/ack and reconnect from the history, and says not-checked naming serverIds and historyPages', () => {
    const items = judgeContract(bare, summary({ loss: pass('loss'), duplicates: { name: 'duplicates', status: 'not-checked', count: 0, witnesses: [], note: "capabilities.serverIds: 'none'", unsupported: true } }), contractFacts(history));
    const byId = Object.fromEntries(items.map((i) => [i.id, i]));
    // c1d1 was killed and never connected again; its send was never acknowledged.
    expect(byId.connect!.status).toBe('pass');
    expect(byId['send-ack']).toMatchObject({ status: 'fail', why: '1 of 2 send(s) never acknowledged: c1d1#1' });
    expect(byId['fan-out']!.status).toBe('pass');
    expect(byId.reconnect).toMatchObject({ status: 'fail', why: '1 of 1 killed device(s) never connected again: c1d1' });
    expect(byId.resend).toMatchObject({ status: 'not-checked', why: expect.stringContaining("capabilities.serverIds: 'none'") });
    expect(byId.resend!.why).toContain('1 send(s) killed right after the write, 1 resent by the runner');
    expect(byId.history).toMatchObject({ status: 'not-checked', why: 'the driver declares capabilities.historyPages: false' });
  });

  it('says catch-up was not exercised when every killed device came back but nothing was replayed after a drop', () => {
    const back = [...history, { type: 'connected', atMs: 35, device: 'c1d1', tookMs: 5 }, { type: 'ack', atMs: 41, device: 'c1d1', conv: 'dm1', key: 'c1d1#1' }] as HistoryEvent[];
    const item = (events: HistoryEvent[]) => judgeContract(bare, summary({ loss: pass('loss') }), contractFacts(events)).find((i) => i.id === 'reconnect');
    expect(item(back)).toMatchObject({ status: 'not-checked', why: expect.stringContaining('catch-up was not exercised') });
    const drop = { type: 'disconnect', atMs: 30, device: 'c1d1', reason: 'killed', intentional: true };
    const replay = { type: 'deliver', atMs: 36, device: 'c1d1', account: 'c1', conv: 'dm1', key: 'a1d1#2', from: 'a1d1', replay: true };
    expect(item([...back, drop, replay] as HistoryEvent[])).toMatchObject({ status: 'pass', why: expect.stringContaining('1 copies caught up after a drop') });
  });

  it('fails fan-out when the loss check fails, and says not-checked when it could not run', () => {
    const lost = { name: 'loss', status: 'fail' as const, count: 3, witnesses: [] };
    expect(judgeContract(bare, summary({ loss: lost }), contractFacts(history)).find((i) => i.id === 'fan-out')).toMatchObject({ status: 'fail', why: 'loss check fail (3 message(s) missing somewhere)' });
    const unknown = { name: 'loss', status: 'not-checked' as const, count: 0, witnesses: [], note: 'no sends in the history' };
    expect(judgeContract(bare, summary({ loss: unknown }), contractFacts(history)).find((i) => i.id === 'fan-out')).toMatchObject({ status: 'not-checked' });
  });
});
