import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startReferenceServer, type ReferenceServer } from '../../src/server/index.ts';
import { ClientPool, FIXTURE, postJson, sleep, type Frame } from './raw-client.ts';

describe.each(['memory', 'sqlite'] as const)('reference server (%s store)', (store) => {
  let server: ReferenceServer;
  const pool = new ClientPool();

  beforeEach(async () => {
    server = await startReferenceServer({ port: 0, store, rateLimit: null });
    const res = await postJson(server.url, '/admin/provision', FIXTURE);
    expect(res).toEqual({ status: 200, json: { ok: true } });
  });
  afterEach(async () => {
    pool.closeAll();
    await server.close();
  });

  it('answers GET /health with 200 on the same port as the WebSocket', async () => {
    const res = await fetch(server.url.replace('ws', 'http') + '/health');
    expect(res.status).toBe(200);
    expect(server.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
  });

  it('rejects a provision body with a wrong field type, naming the field', async () => {
    const res = await postJson(server.url, '/admin/provision', { accounts: [{ id: 'Z', role: 'boss', devices: [] }], conversations: [] });
    expect(res.status).toBe(400);
    expect(res.json.error).toContain('accounts.0.role');
  });

  it('rejects a provision body that is not JSON with 400', async () => {
    const res = await postJson(server.url, '/admin/provision', '{nope');
    expect(res.status).toBe(400);
    expect(res.json.error).toMatch(/not valid JSON/);
  });

  it('refuses with 409 a provision that moves a device to another account', async () => {
    const res = await postJson(server.url, '/admin/provision', {
      accounts: [{ id: 'C', role: 'customer', devices: [{ id: 'a1', token: 'x' }] }],
      conversations: [],
    });
    expect(res.status).toBe(409);
    expect(res.json.error).toContain('device "a1" already belongs to account "A"');
  });

  it('treats a repeated provision as an idempotent upsert', async () => {
    const res = await postJson(server.url, '/admin/provision', FIXTURE);
    expect(res.status).toBe(200);
    const a1 = await pool.connect(server.url, 'a1');
    const w = await a1.waitFor((f) => f.t === 'welcome');
    expect((w.convs as unknown[]).length).toBe(2);
  });

  it('closes a connection with a wrong token with 4401 and a reason', async () => {
    const bad = await pool.connect(server.url, 'a1', 'wrong');
    const closed = await bad.closed;
    expect(closed.code).toBe(4401);
    expect(closed.reason).toMatch(/token/);
    const unknown = await pool.connect(server.url, 'nobody', 'x');
    expect((await unknown.closed).code).toBe(4401);
  });

  it('welcomes a device with its account conversations, lastSeq, readSeq and unread', async () => {
    const a1 = await pool.live(server.url, 'a1');
    a1.send({ t: 'send', cid: 'k1', conv: 'ac', kind: 'text', body: 'hi' });
    await a1.waitFor((f) => f.t === 'ack');
    const c1 = await pool.connect(server.url, 'c1');
    const w = await c1.waitFor((f) => f.t === 'welcome');
    expect(w).toMatchObject({ protocol: 1, account: 'C', device: 'c1' });
    const ac = (w.convs as Frame[]).find((c) => c.conv === 'ac');
    expect(ac).toEqual({ conv: 'ac', kind: 'direct', members: ['A', 'C'], lastSeq: 1, readSeq: 0, unread: 1 });
  });

  it('acks a send and fans it out to every live device of every member except the sending device', async () => {
    const [a1, a2, c1, x1] = await Promise.all(['a1', 'a2', 'c1', 'x1'].map((d) => pool.live(server.url, d)));
    a1!.send({ t: 'send', cid: 'k1', conv: 'ac', kind: 'text', body: 'hello' });
    const ack = await a1!.waitFor((f) => f.t === 'ack');
    expect(ack).toMatchObject({ cid: 'k1', conv: 'ac', seq: 1 });
    const atC = await c1!.waitFor((f) => f.t === 'msg');
    const atA2 = await a2!.waitFor((f) => f.t === 'msg');
    for (const m of [atC, atA2]) {
      expect(m).toMatchObject({ id: ack.id, conv: 'ac', seq: 1, cid: 'k1', body: 'hello', from: { account: 'A', device: 'a1' } });
      expect(m.replay).toBeUndefined();
    }
    await Promise.all([a1!.settle(), x1!.settle()]);
    expect(a1!.all((f) => f.t === 'msg')).toEqual([]);
    expect(x1!.all((f) => f.t === 'msg')).toEqual([]);
  });

  it('returns the original ack for a resent cid and never stores or fans out a second copy', async () => {
    const [a1, c1] = await Promise.all([pool.live(server.url, 'a1'), pool.live(server.url, 'c1')]);
    a1.send({ t: 'send', cid: 'dup', conv: 'ac', kind: 'text', body: 'once' });
    const first = await a1.waitFor((f) => f.t === 'ack');
    a1.send({ t: 'send', cid: 'dup', conv: 'ac', kind: 'text', body: 'once' });
    await a1.settle();
    const acks = a1.all((f) => f.t === 'ack');
    expect(acks).toHaveLength(2);
    expect(acks[1]).toEqual(first);
    await c1.settle();
    expect(c1.all((f) => f.t === 'msg')).toHaveLength(1);
    c1.send({ t: 'history', req: 'h', conv: 'ac' });
    const page = await c1.waitFor((f) => f.t === 'page');
    expect((page.messages as Frame[]).map((m) => m.cid)).toEqual(['dup']);
  });

  it('nacks a send before sync, and a send to a conversation the account is not in', async () => {
    const x1 = await pool.connect(server.url, 'x1');
    await x1.waitFor((f) => f.t === 'welcome');
    x1.send({ t: 'send', cid: 'early', conv: 'grp', kind: 'text', body: 'x' });
    expect(await x1.waitFor((f) => f.t === 'nack' && f.cid === 'early')).toMatchObject({ code: 'invalid' });
    x1.send({ t: 'sync', cursors: {} });
    x1.send({ t: 'send', cid: 'notmine', conv: 'ac', kind: 'text', body: 'x' });
    expect(await x1.waitFor((f) => f.t === 'nack' && f.cid === 'notmine')).toMatchObject({ code: 'not-member', conv: 'ac' });
  });

  it('sends no fan-out before sync, then replays missed messages in order and goes live after synced', async () => {
    const a1 = await pool.live(server.url, 'a1');
    for (let i = 1; i <= 5; i++) a1.send({ t: 'send', cid: `k${i}`, conv: 'grp', kind: 'text', body: `m${i}` });
    await a1.waitFor((f) => f.t === 'ack' && f.cid === 'k5');
    const c1 = await pool.connect(server.url, 'c1');
    await c1.waitFor((f) => f.t === 'welcome');
    a1.send({ t: 'send', cid: 'k6', conv: 'grp', kind: 'text', body: 'm6' });
    await a1.waitFor((f) => f.t === 'ack' && f.cid === 'k6');
    await c1.settle();
    expect(c1.all((f) => f.t === 'msg')).toEqual([]); // not live yet
    c1.send({ t: 'sync', cursors: { grp: 2 } });
    const synced = await c1.waitFor((f) => f.t === 'synced');
    expect(synced).toEqual({ t: 'synced', conv: 'grp', lastSeq: 6 });
    const replayed = c1.all((f) => f.t === 'msg');
    expect(replayed.map((m) => m.seq)).toEqual([3, 4, 5, 6]);
    expect(replayed.every((m) => m.replay === true)).toBe(true);
    expect(c1.frames.indexOf(synced)).toBeGreaterThan(c1.frames.indexOf(replayed[3]!));
    a1.send({ t: 'send', cid: 'k7', conv: 'grp', kind: 'text', body: 'm7' });
    const live = await c1.waitFor((f) => f.t === 'msg' && f.seq === 7);
    expect(live.replay).toBeUndefined();
  });

  it('replays thousands of messages in seq order with live ones only after them', async () => {
    const a1 = await pool.live(server.url, 'a1');
    for (let i = 1; i <= 1200; i++) a1.send({ t: 'send', cid: `b${i}`, conv: 'ac', kind: 'text', body: `m${i}` });
    await a1.waitFor((f) => f.t === 'ack' && f.cid === 'b1200', 10_000);
    const c1 = await pool.connect(server.url, 'c1');
    await c1.waitFor((f) => f.t === 'welcome');
    c1.send({ t: 'sync', cursors: { ac: 0 } });
    // Sends continue while the replay runs.
    for (let i = 1201; i <= 1300; i++) a1.send({ t: 'send', cid: `b${i}`, conv: 'ac', kind: 'text', body: `m${i}` });
    await a1.waitFor((f) => f.t === 'ack' && f.cid === 'b1300', 10_000);
    await c1.waitFor((f) => f.t === 'msg' && f.seq === 1300, 10_000);
    const seqs = c1.all((f) => f.t === 'msg').map((m) => m.seq as number);
    expect(seqs).toEqual(Array.from({ length: 1300 }, (_, i) => i + 1));
  });

  it('lets a second sync cancel an unfinished replay without a live message overtaking replayed ones', async () => {
    const a1 = await pool.live(server.url, 'a1');
    for (let i = 1; i <= 1200; i++) a1.send({ t: 'send', cid: `z${i}`, conv: 'ac', kind: 'text', body: `m${i}` });
    await a1.waitFor((f) => f.t === 'ack' && f.cid === 'z1200', 10_000);
    const c1 = await pool.connect(server.url, 'c1');
    await c1.waitFor((f) => f.t === 'welcome');
    c1.send({ t: 'sync', cursors: { ac: 0 } });
    c1.send({ t: 'sync', cursors: { ac: 1100 } });
    a1.send({ t: 'send', cid: 'live', conv: 'ac', kind: 'text', body: 'live' });
    const live = await c1.waitFor((f) => f.t === 'msg' && f.cid === 'live', 10_000);
    expect(live).toMatchObject({ seq: 1201 });
    expect(live.replay).toBeUndefined();
    const msgs = c1.all((f) => f.t === 'msg');
    expect(msgs.at(-1)).toBe(live);
    expect(msgs.slice(0, -1).every((m) => m.replay === true)).toBe(true);
    const lastSynced = c1.frames.map((f) => f.t).lastIndexOf('synced');
    expect(lastSynced).toBeLessThan(c1.frames.indexOf(live));
    expect(c1.frames[lastSynced]).toEqual({ t: 'synced', conv: 'ac', lastSeq: 1200 });
    // The newer replay (from 1100) ran to the end.
    expect(msgs.slice(-101, -1).map((m) => m.seq)).toEqual(Array.from({ length: 100 }, (_, i) => 1101 + i));
  });

  it('pushes unread to every device of the account on read, and to recipients on a new message', async () => {
    const [a1, a2, c1] = await Promise.all(['a1', 'a2', 'c1'].map((d) => pool.live(server.url, d)));
    c1!.send({ t: 'send', cid: 'q1', conv: 'ac', kind: 'text', body: 'question' });
    c1!.send({ t: 'send', cid: 'q2', conv: 'ac', kind: 'text', body: 'question 2' });
    const u = await a2!.waitFor((f) => f.t === 'unread' && f.count === 2);
    expect(u).toEqual({ t: 'unread', conv: 'ac', count: 2, readSeq: 0 });
    await c1!.settle();
    expect(c1!.all((f) => f.t === 'unread')).toEqual([]); // own messages are never unread
    a1!.send({ t: 'read', conv: 'ac', seq: 1 });
    for (const d of [a1!, a2!]) {
      expect(await d.waitFor((f) => f.t === 'unread' && f.readSeq === 1)).toEqual({ t: 'unread', conv: 'ac', count: 1, readSeq: 1 });
    }
    a2!.send({ t: 'read', conv: 'ac', seq: 99 }); // clamped to lastSeq
    expect(await a1!.waitFor((f) => f.t === 'unread' && f.readSeq === 2)).toMatchObject({ count: 0 });
    a1!.send({ t: 'send', cid: 'r1', conv: 'ac', kind: 'text', body: 'answer' });
    await a1!.waitFor((f) => f.t === 'ack');
    expect(await c1!.waitFor((f) => f.t === 'unread')).toEqual({ t: 'unread', conv: 'ac', count: 1, readSeq: 0 });
  });

  it('serves history pages newest-first by default and pages backwards and forwards', async () => {
    const a1 = await pool.live(server.url, 'a1');
    for (let i = 1; i <= 12; i++) a1.send({ t: 'send', cid: `h${i}`, conv: 'grp', kind: 'text', body: `m${i}` });
    await a1.waitFor((f) => f.t === 'ack' && f.cid === 'h12');
    const ask = async (req: string, q: Record<string, number>): Promise<Frame> => {
      a1.send({ t: 'history', req, conv: 'grp', ...q });
      return a1.waitFor((f) => f.t === 'page' && f.req === req);
    };
    const seqs = (p: Frame): number[] => (p.messages as Frame[]).map((m) => m.seq as number);
    const newest = await ask('p1', { limit: 5 });
    expect([seqs(newest), newest.hasMore]).toEqual([[8, 9, 10, 11, 12], true]);
    const older = await ask('p2', { before: 8, limit: 5 });
    expect([seqs(older), older.hasMore]).toEqual([[3, 4, 5, 6, 7], true]);
    const oldest = await ask('p3', { before: 3, limit: 5 });
    expect([seqs(oldest), oldest.hasMore]).toEqual([[1, 2], false]);
    const fwd = await ask('p4', { after: 9, limit: 5 });
    expect([seqs(fwd), fwd.hasMore]).toEqual([[10, 11, 12], false]);
    const window = await ask('p5', { after: 2, before: 6 });
    expect([seqs(window), window.hasMore]).toEqual([[3, 4, 5], false]);
    expect((newest.messages as Frame[])[0]).toMatchObject({ cid: 'h8', body: 'm8', conv: 'grp', from: { account: 'A', device: 'a1' } });
    expect((newest.messages as Frame[])[0]).not.toHaveProperty('t');
  });

  it('answers ping with pong echoing ts', async () => {
    const a1 = await pool.connect(server.url, 'a1');
    a1.send({ t: 'ping', ts: 42 });
    const pong = await a1.waitFor((f) => f.t === 'pong');
    expect(pong.ts).toBe(42);
    expect(Math.abs((pong.serverTime as number) - Date.now())).toBeLessThan(5000);
  });

  it('closes the older connection of a device with 4409 when it connects again, and keeps serving the new one', async () => {
    const old = await pool.live(server.url, 'c1');
    const fresh = await pool.live(server.url, 'c1');
    expect((await old.closed).code).toBe(4409);
    const a1 = await pool.live(server.url, 'a1');
    a1.send({ t: 'send', cid: 'after-replace', conv: 'ac', kind: 'text', body: 'x' });
    expect(await fresh.waitFor((f) => f.t === 'msg')).toMatchObject({ cid: 'after-replace' });
  });

  it('closes every connection with 1001 on close()', async () => {
    const a1 = await pool.live(server.url, 'a1');
    await server.close();
    expect((await a1.closed).code).toBe(1001);
    await sleep(0);
  });
});
