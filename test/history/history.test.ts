import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { guardListener } from '../../src/history/guard.ts';
import { HistoryWriter } from '../../src/history/writer.ts';
import { readHistory, readHistoryBatches, HistoryFileError } from '../../src/history/reader.ts';
import { Recorder, SLICE_EVENTS } from '../../src/history/recorder.ts';
import type { HistoryEvent } from '../../src/history/events.ts';

const lag = (atMs: number): HistoryEvent => ({ type: 'lag', atMs, eventLoopP99Ms: 1, senderLagP99Ms: 2 });

async function collect(path: string): Promise<HistoryEvent[]> {
  const out: HistoryEvent[] = [];
  for await (const e of readHistory(path)) out.push(e);
  return out;
}

describe('guardListener', () => {
  it('switches a throwing listener off after reporting the first failure once', () => {
    const seen: number[] = [];
    const failures: string[] = [];
    const g = guardListener('the live judge', (e) => {
      seen.push(e.atMs);
      if (e.atMs === 2) throw new Error('boom');
    }, (m) => failures.push(m));
    for (const t of [1, 2, 3, 4]) g(lag(t));
    expect(seen).toEqual([1, 2]);
    expect(failures).toEqual(['the live judge failed on a lag event at 2 ms: boom']);
  });
});

describe('Recorder', () => {
  it('stamps events on its monotonic clock, in order, for every listener', () => {
    const r = new Recorder();
    const a: HistoryEvent[] = [];
    const b: HistoryEvent[] = [];
    r.listen((e) => a.push(e));
    r.listen((e) => b.push(e));
    r.emit({ type: 'lag', eventLoopP99Ms: 0, senderLagP99Ms: 0 });
    r.emit({ type: 'lag', eventLoopP99Ms: 0, senderLagP99Ms: 0 });
    expect(a).toEqual(b);
    expect(a).toHaveLength(2);
    expect(a[1]!.atMs).toBeGreaterThanOrEqual(a[0]!.atMs);
    expect(r.events).toBe(2);
  });

  describe('batched', () => {
    it('holds events until the batch time, then gives each listener all of them in order', async () => {
      const r = new Recorder(undefined, { batchMs: 5 });
      const a: number[] = [];
      const b: number[] = [];
      r.listen((e) => a.push(e.atMs));
      r.listen((e) => b.push(e.atMs));
      for (const t of [1, 2, 3]) r.append(lag(t));
      expect(a).toEqual([]);
      expect(r.events).toBe(3);
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(a).toEqual([1, 2, 3]);
      expect(b).toEqual([1, 2, 3]);
    });

    it('hands a full batch over on the next turn of the event loop, without waiting for the timer', async () => {
      const r = new Recorder(undefined, { batchMs: 60_000, batchEvents: 3 });
      const seen: number[] = [];
      r.listen((e) => seen.push(e.atMs));
      r.append(lag(1));
      r.append(lag(2));
      r.append(lag(3));
      expect(seen).toEqual([]);
      await new Promise((resolve) => setImmediate(resolve));
      expect(seen).toEqual([1, 2, 3]);
      r.append(lag(4));
      r.close();
      expect(seen).toEqual([1, 2, 3, 4]);
    });

    it('yields to the event loop between slices and still gives every listener every event once, in order', async () => {
      // sliceMs 0: yield after every slice of SLICE_EVENTS.
      const r = new Recorder(undefined, { batchMs: 60_000, batchEvents: 1, sliceMs: 0 });
      const a: number[] = [];
      const b: number[] = [];
      r.listen((e) => a.push(e.atMs));
      r.listen((e) => b.push(e.atMs));
      const n = SLICE_EVENTS * 2 + 5;
      for (let t = 1; t <= n; t++) r.append(lag(t));
      await new Promise((resolve) => setImmediate(resolve));
      expect(a).toEqual(Array.from({ length: SLICE_EVENTS }, (_, i) => i + 1));
      expect(b).toEqual(a);
      // Events that come while a batch is being handed over join its end.
      r.append(lag(n + 1));
      while (a.length < n + 1) await new Promise((resolve) => setImmediate(resolve));
      const all = Array.from({ length: n + 1 }, (_, i) => i + 1);
      expect(a).toEqual(all);
      expect(b).toEqual(all);
      r.close();
      expect(a).toEqual(all);
    });

    it('flush hands over the rest of a sliced batch at once', async () => {
      const r = new Recorder(undefined, { batchMs: 60_000, batchEvents: 1, sliceMs: 0 });
      const seen: number[] = [];
      r.listen((e) => seen.push(e.atMs));
      const n = SLICE_EVENTS * 3;
      for (let t = 1; t <= n; t++) r.append(lag(t));
      await new Promise((resolve) => setImmediate(resolve));
      expect(seen).toHaveLength(SLICE_EVENTS);
      r.flush();
      expect(seen).toEqual(Array.from({ length: n }, (_, i) => i + 1));
      await new Promise((resolve) => setImmediate(resolve));
      expect(seen).toHaveLength(n);
    });

    it('after close, events go to listeners as they come', () => {
      const r = new Recorder(undefined, { batchMs: 60_000 });
      const seen: number[] = [];
      r.listen((e) => seen.push(e.atMs));
      r.append(lag(1));
      r.close();
      r.append(lag(2));
      expect(seen).toEqual([1, 2]);
    });

    it('a listener that throws costs only itself the rest of the batch; the error comes out of flush', () => {
      const r = new Recorder(undefined, { batchMs: 60_000 });
      const broken: number[] = [];
      const fine: number[] = [];
      r.listen((e) => {
        if (e.atMs === 2) throw new Error('boom');
        broken.push(e.atMs);
      });
      r.listen((e) => fine.push(e.atMs));
      // Two slices: the broken listener misses the rest of the first and all of the second.
      const n = SLICE_EVENTS * 2;
      for (let t = 1; t <= n; t++) r.append(lag(t));
      expect(() => r.flush()).toThrow('boom');
      expect(broken).toEqual([1]);
      expect(fine).toEqual(Array.from({ length: n }, (_, i) => i + 1));
      // The next batch reaches it again.
      r.append(lag(n + 1));
      r.flush();
      expect(broken).toEqual([1, n + 1]);
      r.close();
    });

    it('refuses a batch time that is not a number ≥ 0', () => {
      expect(() => new Recorder(undefined, { batchMs: -1 })).toThrow(/batchMs must be a number ≥ 0, got -1/);
      expect(() => new Recorder(undefined, { batchMs: Number.NaN })).toThrow(/batchMs/);
      expect(() => new Recorder(undefined, { batchEvents: 0 })).toThrow(/batchEvents must be ≥ 1/);
      expect(() => new Recorder(undefined, { sliceMs: -1 })).toThrow(/sliceMs must be a number ≥ 0, got -1/);
    });
  });
});

describe('history files', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'chatstorm-history-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads back exactly what the writer wrote', async () => {
    const path = join(dir, 'history.jsonl');
    const w = new HistoryWriter(path);
    const events = Array.from({ length: 5000 }, (_, i) => lag(i));
    for (const e of events) w.write(e);
    await w.close();
    expect(await collect(path)).toEqual(events);
  });

  it('reads back a file of several read chunks, multi-byte text across their edges, in batches that add up to every event', async () => {
    const path = join(dir, 'history.jsonl');
    const w = new HistoryWriter(path);
    // About 3 MiB: three 1 MiB chunks, with emoji and CJK (3 and 4 bytes in UTF-8) everywhere.
    const events = Array.from({ length: 12_000 }, (_, i) => ({ type: 'fault' as const, atMs: i, phase: 'start' as const, fault: `f${i}`, network: 'net', action: 'toxic', description: `😀客服 ${'é'.repeat(i % 97)} ${'x'.repeat(150)}` }));
    for (const e of events) w.write(e);
    await w.close();
    const batches: number[] = [];
    const all: unknown[] = [];
    for await (const b of readHistoryBatches(path)) {
      batches.push(b.length);
      all.push(...b);
    }
    expect(batches.length).toBeGreaterThan(2);
    expect(all).toEqual(events);
  });

  it('skips a torn last line, as a crashed run leaves it', async () => {
    const path = join(dir, 'history.jsonl');
    await writeFile(path, JSON.stringify(lag(1)) + '\n' + JSON.stringify(lag(2)).slice(0, 10));
    expect(await collect(path)).toEqual([lag(1)]);
  });

  it('rejects a bad line in the middle, naming the line', async () => {
    const path = join(dir, 'history.jsonl');
    await writeFile(path, JSON.stringify(lag(1)) + '\nnot json\n' + JSON.stringify(lag(3)) + '\n');
    await expect(collect(path)).rejects.toThrow(HistoryFileError);
    await expect(collect(path)).rejects.toThrow(/history\.jsonl:2:/);
  });

  it('refuses a device or a folder in place of the history file, naming it, instead of reading forever', async () => {
    const device = join(dir, 'history.jsonl');
    await symlink('/dev/zero', device);
    await expect(collect(device)).rejects.toThrow(/history\.jsonl is a device, not a history file/);
    await expect(collect(dir)).rejects.toThrow(/is a folder, not a history file/);
    await expect(collect(join(dir, 'absent.jsonl'))).rejects.toThrow(/absent\.jsonl: cannot open the history file \(ENOENT\)/);
  });

  it('flushes while the run goes on, so a crash leaves the events written so far', async () => {
    const path = join(dir, 'history.jsonl');
    const w = new HistoryWriter(path, 20);
    w.write(lag(1));
    // Wait for the flush (not a fixed delay: timers run late on a loaded machine); the file holds
    // the event before close() is ever called, or the poll gives up after 10 s.
    let text = '';
    for (const until = Date.now() + 10_000; Date.now() < until; ) {
      text = await readFile(path, 'utf8').catch(() => '');
      if (text !== '') break;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(text.trim()).toBe(JSON.stringify(lag(1)));
    await w.close();
  });
});
