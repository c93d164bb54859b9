import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replayTrace, SKIPPED_LINES_FILE } from '../../src/cli/replay-command.ts';
import { main } from '../../src/cli/main.ts';
import { readHistory } from '../../src/history/reader.ts';
import type { HistoryEvent } from '../../src/history/events.ts';
import type { Plan } from '../../src/plan/index.ts';
import { synthTrace, traceFromRun, traceToJsonl } from '../../src/trace/index.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chatstorm-replay-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function events(run: string): Promise<HistoryEvent[]> {
  const out: HistoryEvent[] = [];
  for await (const e of readHistory(join(run, 'history.jsonl'))) out.push(e);
  return out;
}

// These runs judge replay (plans, causality, checks), not delays: a local server answers in a
// millisecond, and the harness's own lag on a shared 2-core machine would be material beside it.
describe('chatstorm replay', () => {
  let firstRun = '';

  it('replays a synthetic trace at twice its speed to a pass', async () => {
    const t = synthTrace({ seed: 4, customers: 20, agents: 3, durationMs: 16_000 });
    const file = join(dir, 'evening.jsonl');
    await writeFile(file, traceToJsonl(t.header, t.records));
    const r = await replayTrace({ trace: file, speed: 2, out: join(dir, 'runs'), allowHarnessLag: true });
    firstRun = r.dir;
    expect(r.summary.verdict).toBe('pass');
    expect(r.exitCode).toBe(0);
    const plan = JSON.parse(await readFile(join(r.dir, 'plan.json'), 'utf8')) as Plan;
    const sent = (await events(r.dir)).filter((e) => e.type === 'send' && e.attempt === 1);
    expect(sent.length).toBe(plan.sends.length);
  });

  it('sends no reply before the message it answers reached the replier, even when planned earlier', async () => {
    // 400 ms latency each way on the only network; each agent reply is planned 50 ms after the
    // question, long before the question can arrive: replay must hold the reply back.
    const header = { trace: 'chatstorm', version: 1, name: 'slow-link', networks: { slow: { toxics: [{ type: 'latency', attributes: { latency: 400 } }] } } };
    const recs: object[] = [];
    for (let i = 0; i < 6; i++) {
      const t = 200 + i * 300;
      recs.push({ t, type: 'message', conv: `c${i % 2}`, account: `cust${i % 2}`, role: 'customer', kind: 'text', size: 30, id: `q${i}` });
      recs.push({ t: t + 50, type: 'message', conv: `c${i % 2}`, account: 'agent', role: 'agent', kind: 'text', size: 30, id: `a${i}`, replyTo: `q${i}` });
    }
    const file = join(dir, 'slow.jsonl');
    await writeFile(file, [header, ...recs].map((r) => JSON.stringify(r)).join('\n') + '\n');
    const r = await replayTrace({ trace: file, out: join(dir, 'runs'), allowHarnessLag: true });
    expect(r.summary.verdict).toBe('pass');
    const plan = JSON.parse(await readFile(join(r.dir, 'plan.json'), 'utf8')) as Plan;
    const replies = plan.sends.filter((s) => s.after !== undefined);
    expect(replies).toHaveLength(6);
    const sentAt = new Map<string, number>();
    const arrived = new Map<string, number>();
    for (const e of await events(r.dir)) {
      if (e.type === 'send' && e.attempt === 1) sentAt.set(e.key, e.atMs);
      if (e.type === 'deliver' && !arrived.has(`${e.account} ${e.key}`)) arrived.set(`${e.account} ${e.key}`, e.atMs);
    }
    for (const s of replies) {
      const got = arrived.get(`${s.account} ${s.after}`);
      expect(got, `${s.after} reached ${s.account}`).toBeDefined();
      expect(sentAt.get(s.key) as number).toBeGreaterThanOrEqual(got as number);
    }
  });

  it('turns a saved run into a trace that replays the same messages', async () => {
    const t = await traceFromRun(firstRun);
    const file = join(dir, 'from-run.jsonl');
    await writeFile(file, traceToJsonl(t.header, t.records));
    const before = JSON.parse(await readFile(join(firstRun, 'plan.json'), 'utf8')) as Plan;
    const r = await replayTrace({ trace: file, speed: 2, out: join(dir, 'runs'), allowHarnessLag: true });
    expect(r.summary.verdict).toBe('pass');
    const plan = JSON.parse(await readFile(join(r.dir, 'plan.json'), 'utf8')) as Plan;
    const shape = (p: Plan) => p.sends.map((s) => [s.device, s.conv, s.kind, s.bytes, s.attachments ?? []].join(' ')).sort();
    expect(shape(plan)).toEqual(shape(before));
  });

  it('exits 2 on a malformed trace naming the line, and with --skip-bad-lines runs and lists what it left out', async () => {
    const t = synthTrace({ seed: 8, customers: 5, agents: 1, durationMs: 6_000 });
    const text = traceToJsonl(t.header, t.records).replace('"kind":"text"', '"kind":"telegram"');
    const line = text.split('\n').findIndex((l) => l.includes('telegram')) + 1;
    const file = join(dir, 'bad.jsonl');
    await writeFile(file, text);
    const errors: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => (errors.push(String(s)), true)) as typeof process.stderr.write;
    let code: number;
    try {
      code = await main(['replay', file, '--out', join(dir, 'runs'), '--quiet']);
    } finally {
      process.stderr.write = write;
    }
    expect(code).toBe(2);
    expect(errors.join('')).toContain(`line ${line}, kind:`);
    const r = await replayTrace({ trace: file, out: join(dir, 'runs'), skipBadLines: true, speed: 2, allowHarnessLag: true });
    expect(r.summary.verdict).toBe('pass');
    const listed = JSON.parse(await readFile(join(r.dir, SKIPPED_LINES_FILE), 'utf8')) as { count: number; lines: { line: number }[] };
    expect(listed.count).toBe(1);
    expect(listed.lines[0]?.line).toBe(line);
    expect(r.notes.join('\n')).toContain('--skip-bad-lines left out 1 line(s)');
  });
});
