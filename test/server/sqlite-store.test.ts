import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startReferenceServer, type ReferenceServer } from '../../src/server/index.ts';
import { ClientPool, FIXTURE, postJson, type Frame } from './raw-client.ts';

describe('reference server with a SQLite file across a restart', () => {
  let dir: string;
  let dbPath: string;
  let server: ReferenceServer | undefined;
  const pool = new ClientPool();

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'chatstorm-sqlite-test-'));
    dbPath = join(dir, 'chat.db');
  });
  afterEach(async () => {
    pool.closeAll();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loses no acknowledged message, read cursor or provisioned device when reopened on the same dbPath', async () => {
    server = await startReferenceServer({ port: 0, store: 'sqlite', dbPath, rateLimit: null });
    await postJson(server.url, '/admin/provision', FIXTURE);
    const a1 = await pool.live(server.url, 'a1');
    for (let i = 1; i <= 50; i++) a1.send({ t: 'send', cid: `p${i}`, conv: 'grp', kind: 'text', body: `body ${i}` });
    const acks = await Promise.all(
      Array.from({ length: 50 }, (_, i) => a1.waitFor((f) => f.t === 'ack' && f.cid === `p${i + 1}`)),
    );
    const c1 = await pool.live(server.url, 'c1');
    c1.send({ t: 'read', conv: 'grp', seq: 20 });
    await c1.waitFor((f) => f.t === 'unread' && f.readSeq === 20);
    pool.closeAll();
    await server.close();

    server = await startReferenceServer({ port: 0, store: 'sqlite', dbPath, rateLimit: null });
    const c1b = await pool.connect(server.url, 'c1'); // no provision: devices came from the file
    const welcome = await c1b.waitFor((f) => f.t === 'welcome');
    expect((welcome.convs as Frame[]).find((c) => c.conv === 'grp')).toMatchObject({ lastSeq: 50, readSeq: 20, unread: 30 });
    c1b.send({ t: 'sync', cursors: { grp: 0 } });
    await c1b.waitFor((f) => f.t === 'synced');
    const replayed = c1b.all((f) => f.t === 'msg');
    expect(replayed.map((m) => [m.id, m.seq, m.cid])).toEqual(acks.map((a) => [a.id, a.seq, a.cid]));
  });

  it('answers a resend after the restart with the original ack and stores no second copy', async () => {
    server = await startReferenceServer({ port: 0, store: 'sqlite', dbPath, rateLimit: null });
    await postJson(server.url, '/admin/provision', FIXTURE);
    const a1 = await pool.live(server.url, 'a1');
    a1.send({ t: 'send', cid: 'once', conv: 'ac', kind: 'text', body: 'x' });
    const original = await a1.waitFor((f) => f.t === 'ack');
    pool.closeAll();
    await server.close();

    server = await startReferenceServer({ port: 0, store: 'sqlite', dbPath, rateLimit: null });
    const again = await pool.live(server.url, 'a1');
    again.send({ t: 'send', cid: 'once', conv: 'ac', kind: 'text', body: 'x' });
    expect(await again.waitFor((f) => f.t === 'ack')).toEqual(original);
    again.send({ t: 'send', cid: 'next', conv: 'ac', kind: 'text', body: 'y' });
    expect(await again.waitFor((f) => f.t === 'ack' && f.cid === 'next')).toMatchObject({ seq: 2 });
  });

  it('preloads history through POST /admin/preload and pages it', async () => {
    server = await startReferenceServer({ port: 0, store: 'sqlite', dbPath });
    await postJson(server.url, '/admin/provision', FIXTURE);
    const res = await postJson(server.url, '/admin/preload', { conv: 'grp', count: 5000, spanDays: 30 });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ ok: true, conv: 'grp', count: 5000, firstSeq: 1, lastSeq: 5000 });
    const bad = await postJson(server.url, '/admin/preload', { conv: 'grp', count: 0 });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toContain('count');
    const unknown = await postJson(server.url, '/admin/preload', { conv: 'nope', count: 1 });
    expect(unknown.status).toBe(404);
    const a1 = await pool.live(server.url, 'a1', {});
    a1.send({ t: 'history', req: 'h', conv: 'grp', before: 101, limit: 100 });
    const page = await a1.waitFor((f) => f.t === 'page');
    const msgs = page.messages as Frame[];
    expect(msgs.map((m) => m.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(page.hasMore).toBe(false);
    const span = (msgs[99]!.ts as number) - (msgs[0]!.ts as number);
    expect(span).toBeGreaterThan(0);
    expect(msgs[0]!.ts as number).toBeLessThan(Date.now() - 29 * 86_400_000);
  });

  it('names each preloaded message `<cidPrefix><n>` when asked, in both stores, after what the conversation held', async () => {
    for (const store of ['sqlite', 'memory'] as const) {
      server = await startReferenceServer({ port: 0, store, ...(store === 'sqlite' ? { dbPath: `${dbPath}-${store}` } : {}) });
      await postJson(server.url, '/admin/provision', FIXTURE);
      await postJson(server.url, '/admin/preload', { conv: 'grp', count: 3 });
      const res = await postJson(server.url, '/admin/preload', { conv: 'grp', count: 250, cidPrefix: 'preload-grp#' });
      expect(res.json).toMatchObject({ ok: true, count: 250, firstSeq: 4, lastSeq: 253 });
      expect((await postJson(server.url, '/admin/preload', { conv: 'grp', count: 1, cidPrefix: '' })).status).toBe(400);
      const a1 = await pool.live(server.url, 'a1', {});
      a1.send({ t: 'history', req: 'h', conv: 'grp', after: 2, limit: 4 });
      const page = await a1.waitFor((f) => f.t === 'page');
      const msgs = page.messages as Frame[];
      expect(msgs.map((m) => m.seq)).toEqual([3, 4, 5, 6]);
      // Without a prefix, the per-request default.
      expect(msgs[0]!.cid).toMatch(/^preload-[0-9a-z]+-0000000002$/);
      expect(msgs.slice(1).map((m) => m.cid)).toEqual(['preload-grp#1', 'preload-grp#2', 'preload-grp#3']);
      await server.close();
    }
  });
});
