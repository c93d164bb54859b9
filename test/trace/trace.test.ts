import { describe, expect, it } from 'vitest';
import { InvalidTraceError } from '../../src/errors.ts';
import { parseTrace, synthTrace, traceToCsv, traceToJsonl, traceToPlan } from '../../src/trace/index.ts';

const header = JSON.stringify({ trace: 'chatstorm', version: 1, name: 'tiny' });
const lines = (...rs: object[]) => [header, ...rs.map((r) => JSON.stringify(r))].join('\n') + '\n';
const tiny = lines(
  { t: 0, type: 'conversation', conv: 'c1', kind: 'direct', members: ['cust1', 'agent1'] },
  { t: 100, type: 'message', conv: 'c1', account: 'cust1', role: 'customer', device: 'mobile', kind: 'text', size: 40, id: 'q1' },
  { t: 900, type: 'message', conv: 'c1', account: 'agent1', role: 'agent', device: 'desktop', kind: 'text', size: 80, id: 'a1', replyTo: 'q1' },
  { t: 1200, type: 'message', conv: 'c1', account: 'cust1', role: 'customer', device: 'web', kind: 'image', size: 0, attachments: [20_000] },
  { t: 1500, type: 'read', conv: 'c1', account: 'agent1' },
);

describe('parseTrace', () => {
  it('reads a header and records in time order, with their line numbers', () => {
    const t = parseTrace(tiny);
    expect(t.header.name).toBe('tiny');
    expect(t.records.map((r) => r.type)).toEqual(['conversation', 'message', 'message', 'message', 'read']);
    expect(t.lines).toEqual([2, 3, 4, 5, 6]);
  });

  it('refuses a malformed line naming its number, the field and the reason', () => {
    const bad = lines({ t: 0, type: 'message', conv: 'c1', account: 'u1', role: 'customer', kind: 'txt', size: 1 });
    const err = (() => {
      try {
        parseTrace(bad, { source: 'x.jsonl' });
      } catch (e) {
        return e;
      }
    })() as InvalidTraceError;
    expect(err).toBeInstanceOf(InvalidTraceError);
    expect(err.code).toBe('CHATSTORM_ERR_INVALID_TRACE');
    expect(err.lines).toEqual([expect.objectContaining({ line: 2, field: 'kind' })]);
    expect(err.message).toMatch(/x\.jsonl is invalid:\n  - line 2, kind: /);
    expect(err.message).toContain('--skip-bad-lines');
  });

  it('refuses lines out of time order, and a line that is not JSON', () => {
    const text = lines({ t: 500, type: 'read', conv: 'c1', account: 'a' }, { t: 100, type: 'read', conv: 'c1', account: 'a' }) + '{oops\n';
    expect(() => parseTrace(text)).toThrow(/line 3, t: out of time order: 100 ms comes after 500 ms/);
    expect(() => parseTrace(text)).toThrow(/line 4: not JSON/);
  });

  it('with skipBadLines leaves bad lines out and lists them', () => {
    const text = lines({ t: 0, type: 'read', conv: 'c1', account: 'a' }, { t: 1, type: 'nonsense' }, { t: 2, type: 'read', conv: 'c1', account: 'a' });
    const t = parseTrace(text, { skipBadLines: true });
    expect(t.records).toHaveLength(2);
    expect(t.skipped).toEqual([expect.objectContaining({ line: 3, field: 'type' })]);
  });

  it('refuses a trace without its header line, even with skipBadLines', () => {
    expect(() => parseTrace(JSON.stringify({ t: 0, type: 'read', conv: 'c', account: 'a' }), { skipBadLines: true })).toThrow(/line 1, trace: .*first line must be the header/);
  });

  it('reads the same records from CSV as from JSON Lines', () => {
    const t = parseTrace(tiny);
    const csv = traceToCsv(t.records);
    const back = parseTrace(csv, { format: 'csv' });
    expect(back.records).toEqual(t.records);
    expect(back.lines[0]).toBe(2);
  });
});

describe('traceToPlan', () => {
  it('builds accounts, devices, conversations and keys per device, and points replies at the answered key', () => {
    const { plan } = traceToPlan(parseTrace(tiny));
    expect(plan.accounts.map((a) => [a.id, a.role, a.devices.map((d) => d.id)])).toEqual([
      ['cust1', 'customer', ['cust1.mobile', 'cust1.web']],
      ['agent1', 'agent', ['agent1.desktop']],
    ]);
    expect(plan.conversations).toEqual([{ id: 'c1', kind: 'direct', members: ['cust1', 'agent1'], openMs: 0, closeMs: null }]);
    expect(plan.sends.map((s) => [s.atMs, s.key, s.after])).toEqual([
      [100, 'cust1.mobile#1', undefined],
      [900, 'agent1.desktop#1', 'cust1.mobile#1'],
      [1200, 'cust1.web#1', undefined],
    ]);
    expect(plan.reads).toEqual([{ atMs: 1500, device: 'agent1.desktop', account: 'agent1', conv: 'c1' }]);
  });

  it('divides times by --speed', () => {
    const { plan } = traceToPlan(parseTrace(tiny), { speed: 2 });
    expect(plan.sends.map((s) => s.atMs)).toEqual([50, 450, 600]);
  });

  it('--scale adds conversations of the same shape with fresh ids and never a duplicate key', () => {
    const trace = parseTrace(traceToJsonl(...(Object.values(synthTrace({ seed: 3, customers: 40, durationMs: 30_000 })) as [never, never])));
    const one = traceToPlan(trace).plan;
    const more = traceToPlan(trace, { scale: 2.5, seed: 9 }).plan;
    const keys = more.sends.map((s) => s.key);
    expect(new Set(keys).size).toBe(keys.length);
    const convs = more.conversations.map((c) => c.id);
    expect(new Set(convs).size).toBe(convs.length);
    // Two whole copies and about half of a third.
    expect(more.conversations.length).toBeGreaterThan(2 * one.conversations.length);
    expect(more.conversations.length).toBeLessThan(3 * one.conversations.length);
    // Every reply of a copy answers a message of the same copy.
    const copyOf = (id: string) => /-r(\d+)[.#]/.exec(id)?.[1] ?? '1';
    for (const s of more.sends) if (s.after) expect(copyOf(s.after)).toBe(copyOf(s.key));
  });

  it('refuses sizes beyond the limits and an account whose role is never given, naming the line', () => {
    const big = lines({ t: 0, type: 'message', conv: 'c1', account: 'u', role: 'customer', kind: 'text', size: 900_000 });
    expect(() => traceToPlan(parseTrace(big))).toThrow(/line 2, size: text body of 900000 bytes is over driver reference's limit of 65536 bytes/);
    const noRole = lines({ t: 0, type: 'message', conv: 'c1', account: 'u', kind: 'text', size: 9 });
    expect(() => traceToPlan(parseTrace(noRole))).toThrow(/account u has no role/);
  });

  it('applies header faults on header networks, scaled by --speed, and refuses an unknown network', () => {
    const h = { trace: 'chatstorm', version: 1, networks: { eu: { toxics: [] } }, faults: [{ action: 'outage', at: 1000, duration: 400, network: 'eu' }] };
    const body = tiny.split('\n').slice(1).join('\n');
    const { plan } = traceToPlan(parseTrace(JSON.stringify(h) + '\n' + body), { speed: 2 });
    expect(plan.faults.map((f) => [f.action, f.startMs, f.endMs])).toEqual([['outage', 500, 700]]);
    const wrong = { ...h, faults: [{ action: 'outage', at: 1000, duration: 400, network: 'us' }] };
    expect(() => traceToPlan(parseTrace(JSON.stringify(wrong) + '\n' + body))).toThrow(/faults\[0\]\.network/);
  });

  it('turns a disconnect into a kill of that device', () => {
    const text = tiny.trimEnd() + '\n' + JSON.stringify({ t: 1600, type: 'disconnect', account: 'cust1', device: 'web' }) + '\n';
    const { plan } = traceToPlan(parseTrace(text));
    expect(plan.faults).toEqual([expect.objectContaining({ action: 'kill', startMs: 1600, devices: ['cust1.web'] })]);
  });
});

describe('synthTrace', () => {
  it('is the same trace for the same seed, and another for another seed', () => {
    expect(traceToJsonl(...(Object.values(synthTrace({ seed: 5 })) as [never, never]))).toBe(traceToJsonl(...(Object.values(synthTrace({ seed: 5 })) as [never, never])));
    expect(traceToJsonl(...(Object.values(synthTrace({ seed: 5 })) as [never, never]))).not.toBe(traceToJsonl(...(Object.values(synthTrace({ seed: 6 })) as [never, never])));
  });

  it('has an evening peak, heavy-tailed conversation lengths and attachments, and parses back', () => {
    const { header, records } = synthTrace({ seed: 2, customers: 400, durationMs: 100_000 });
    const t = parseTrace(traceToJsonl(header, records));
    const starts = t.records.filter((r) => r.type === 'conversation').map((r) => r.t);
    const late = starts.filter((s) => s >= 60_000 && s < 80_000).length;
    const early = starts.filter((s) => s < 20_000).length;
    expect(late).toBeGreaterThan(2 * early);
    const perConv = new Map<string, number>();
    for (const r of t.records) if (r.type === 'message' && r.role === 'customer') perConv.set(r.conv, (perConv.get(r.conv) ?? 0) + 1);
    const lengths = [...perConv.values()].sort((a, b) => a - b);
    const median = lengths[Math.floor(lengths.length / 2)] as number;
    expect(lengths.at(-1) as number).toBeGreaterThan(5 * median);
    expect(t.records.some((r) => r.type === 'message' && r.attachments?.length)).toBe(true);
  });
});
