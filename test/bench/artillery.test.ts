import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fireAndForgetScript, readTallies, receiversScript } from '../../bench/lib/artillery.ts';
import { listen, report, sent, type TallyContext } from '../../bench/lib/artillery-tally.mjs';
import { buildPlan } from '../../src/plan/plan.ts';
import { validateScenario } from '../../src/scenario/validate.ts';
import { rateScenario } from '../../bench/lib/rate-scenario.ts';

const plan = buildPlan(validateScenario(rateScenario(100, 2, 30, 0)));
const agents = plan.accounts.filter((a) => a.role === 'agent');
const customers = plan.accounts.filter((a) => a.role === 'customer');

type Flow = { flow: Record<string, unknown>[] }[];

describe('receiversScript', () => {
  const { script, csv } = receiversScript(plan, 'ws://127.0.0.1:1', '/tmp/t.jsonl') as { script: { config: Record<string, unknown>; scenarios: Flow }; csv: { rows: string[] } };

  it('connects every agent device before the customers, agents sending nothing and staying past the send window', () => {
    expect(csv.rows).toHaveLength(agents.length + customers.length);
    const roles = csv.rows.map((r) => r.split(',')[2]);
    expect(roles.slice(0, agents.length).every((r) => r === 'agent')).toBe(true);
    expect(roles.slice(agents.length).every((r) => r === 'customer')).toBe(true);
    const [, , , count, stay] = csv.rows[0]!.split(',');
    expect(count).toBe('0');
    expect(Number.parseInt(stay!, 10)).toBeGreaterThan(plan.sendWindowMs + 1000);
    expect(csv.rows[0]).toContain(encodeURIComponent(agents[0]!.devices[0]!.id));
  });

  it('has every device sync before anything else is sent, and tally what it receives', () => {
    const flow = script.scenarios[0]!.flow;
    expect(flow[0]).toEqual({ connect: '{{ url }}' });
    expect(flow[1]).toEqual({ function: 'listen' });
    expect(flow[2]).toEqual({ send: '{"t":"sync","cursors":{}}' });
    expect(flow.at(-1)).toEqual({ function: 'report' });
    expect(script.config['variables']).toEqual({ tallyFile: '/tmp/t.jsonl' });
    expect(script.config['processor']).toMatch(/artillery-tally\.mjs$/);
  });

  it('sends from the customers as many frames as the fire-and-forget script does', () => {
    const fire = fireAndForgetScript(plan, 'ws://127.0.0.1:1') as { script: { scenarios: Flow }; csv: { rows: string[] } };
    const perVu = (fire.script.scenarios[0]!.flow[2] as { count: number }).count;
    expect(fire.csv.rows).toHaveLength(customers.length);
    expect(csv.rows.slice(agents.length).every((r) => r.split(',')[3] === String(perVu))).toBe(true);
    expect(fire.script.scenarios[0]!.flow.some((s) => JSON.stringify(s).includes('sync'))).toBe(false);
  });
});

describe('artillery-tally.mjs', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('counts frames by the first letter of their type and appends one line per VU', () => {
    dir = mkdtempSync(join(tmpdir(), 'tally-'));
    const file = join(dir, 't.jsonl');
    const ws = new EventEmitter();
    const context: TallyContext = { vars: { role: 'agent', tallyFile: file }, ws };
    const next = () => {};
    listen(context, null, next);
    for (const f of ['{"t":"welcome"}', '{"t":"msg","id":"1"}', '{"t":"msg","id":"2"}', '{"t":"unread","count":2}', '{"t":"ack"}', '{"t":"nack"}', '{"t":"error"}']) ws.emit('message', f);
    ws.emit('message', Buffer.from('{"t":"msg","id":"3"}'));
    sent(context, null, next);
    report(context, null, next);
    const line = JSON.parse(readFileSync(file, 'utf8').trim()) as Record<string, unknown>;
    expect(line).toMatchObject({ role: 'agent', welcome: 1, msg: 3, unread: 1, ack: 1, nack: 1, other: 1 });
    expect(line['lastAtMs']).toEqual(expect.any(Number));
    expect(line['sentAtMs']).toEqual(expect.any(Number));
  });
});

describe('readTallies', () => {
  const line = (o: Record<string, unknown>) => JSON.stringify({ msg: 0, unread: 0, ack: 0, nack: 0, welcome: 1, other: 0, lastAtMs: null, sentAtMs: null, ...o });

  it('sums frames by role, leaves welcomes out of the received count, and keeps the last frame and the last send', () => {
    const t = readTallies(
      [
        line({ role: 'agent', msg: 10, unread: 4, lastAtMs: 5000, sentAtMs: 1000 }),
        line({ role: 'agent', msg: 6, unread: 3, lastAtMs: 5200, sentAtMs: 1000 }),
        line({ role: 'customer', ack: 8, lastAtMs: 4900, sentAtMs: 4800 }),
        line({ role: 'customer', ack: 7, nack: 1, lastAtMs: 4950, sentAtMs: 4850 }),
        line({ role: 'customer', welcome: 0 }),
        '',
      ].join('\n'),
    );
    expect(t.agent).toEqual({ vus: 2, msg: 16, unread: 7, ack: 0, nack: 0, welcome: 2, other: 0 });
    expect(t.customer).toEqual({ vus: 3, msg: 0, unread: 0, ack: 15, nack: 1, welcome: 2, other: 0 });
    expect(t.received).toBe(16 + 7 + 15 + 1);
    expect(t.lastFrameAtMs).toBe(5200);
    // The agents' `sent` marks the end of their empty loop, not a send.
    expect(t.lastSendAtMs).toBe(4850);
  });

  it('refuses a line without a known role, quoting it', () => {
    expect(() => readTallies(line({ role: 'bot' }))).toThrow(/role "bot", expected "customer" or "agent"/);
  });

  it('gives no last frame for an empty file', () => {
    expect(readTallies('').lastFrameAtMs).toBeNaN();
  });
});
