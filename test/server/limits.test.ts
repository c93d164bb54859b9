import { afterEach, describe, expect, it } from 'vitest';
import { startReferenceServer, InvalidServerOptionsError, type ReferenceServer } from '../../src/server/index.ts';
import { ClientPool, FIXTURE, postJson } from './raw-client.ts';

describe('reference server limits and hostile input', () => {
  let server: ReferenceServer | undefined;
  const pool = new ClientPool();

  afterEach(async () => {
    pool.closeAll();
    await server?.close();
    server = undefined;
  });

  async function start(opts: Parameters<typeof startReferenceServer>[0] = {}): Promise<ReferenceServer> {
    server = await startReferenceServer({ port: 0, store: 'memory', ...opts });
    await postJson(server.url, '/admin/provision', FIXTURE);
    return server;
  }

  it('nacks sends over the per-account token bucket with rate-limited and retryAfterMs, and accepts them again later', async () => {
    // A slow refill (one token per 500 ms), so that a loaded machine's pauses between the eight
    // sends do not refill the bucket and change the count of acks.
    const s = await start({ rateLimit: { perSecond: 2, burst: 5 } });
    const [a1, a2] = await Promise.all([pool.live(s.url, 'a1'), pool.live(s.url, 'a2')]);
    for (let i = 0; i < 4; i++) a1.send({ t: 'send', cid: `r${i}`, conv: 'ac', kind: 'text', body: 'x' });
    for (let i = 4; i < 8; i++) a2.send({ t: 'send', cid: `r${i}`, conv: 'ac', kind: 'text', body: 'x' });
    await Promise.all([a1.settle(), a2.settle()]);
    const answers = [...a1.frames, ...a2.frames].filter((f) => f.t === 'ack' || f.t === 'nack');
    expect(answers).toHaveLength(8); // every send answered, none dropped silently
    const nacks = answers.filter((f) => f.t === 'nack');
    expect(answers.filter((f) => f.t === 'ack')).toHaveLength(5); // the bucket is per account, shared by both devices
    for (const n of nacks) {
      expect(n).toMatchObject({ code: 'rate-limited', conv: 'ac' });
      expect(n.retryAfterMs).toBeGreaterThan(0);
      expect(n.retryAfterMs).toBeLessThanOrEqual(1000 / 2 * 3 + 1);
    }
    const first = nacks[0]!;
    await new Promise((r) => setTimeout(r, (first.retryAfterMs as number) + 10));
    const sender = a1.frames.includes(first) ? a1 : a2;
    sender.send({ t: 'send', cid: first.cid, conv: 'ac', kind: 'text', body: 'x' });
    expect(await sender.waitFor((f) => f.t === 'ack' && f.cid === first.cid)).toMatchObject({ seq: 6 });
  });

  it('accepts a 64 KiB body and nacks a longer one with too-large', async () => {
    const s = await start();
    const [a1, c1] = await Promise.all([pool.live(s.url, 'a1'), pool.live(s.url, 'c1')]);
    const long = 'é'.repeat(32_768); // 65,536 UTF-8 bytes
    a1.send({ t: 'send', cid: 'long', conv: 'ac', kind: 'long-text', body: long });
    await a1.waitFor((f) => f.t === 'ack' && f.cid === 'long');
    expect((await c1.waitFor((f) => f.t === 'msg')).body).toBe(long);
    a1.send({ t: 'send', cid: 'longer', conv: 'ac', kind: 'long-text', body: long + 'x' });
    const nack = await a1.waitFor((f) => f.t === 'nack');
    expect(nack).toMatchObject({ cid: 'longer', code: 'too-large' });
    expect(nack.message).toContain('65536');
  });

  it('closes a connection that sends a frame over maxFrameBytes with 4413', async () => {
    const s = await start({ maxFrameBytes: 64 * 1024 });
    const a1 = await pool.live(s.url, 'a1');
    a1.sendText(JSON.stringify({ t: 'ping', pad: 'x'.repeat(70_000) }));
    const closed = await a1.closed;
    expect(closed.code).toBe(4413);
    expect(closed.reason).toContain('65536');
    const again = await pool.live(s.url, 'a1');
    again.send({ t: 'ping', ts: 1 });
    await again.waitFor((f) => f.t === 'pong');
  });

  it('answers malformed, unknown, mistyped and out-of-sequence frames with errors and keeps serving correct traffic', async () => {
    const s = await start();
    const c1 = await pool.live(s.url, 'c1');
    const x1 = await pool.connect(s.url, 'x1');
    await x1.waitFor((f) => f.t === 'welcome');
    // before sync:
    x1.send({ t: 'send', cid: 'early', conv: 'grp', kind: 'text', body: 'x' });
    const hostile: [unknown, string][] = [
      ['{not json', 'bad-json'],
      ['[1,2]', 'bad-frame'],
      ['"just a string"', 'bad-frame'],
      [{ t: 'teleport' }, 'unknown-type'],
      [{ noType: true }, 'unknown-type'],
      [{ t: 'send', cid: 7, conv: 'grp', kind: 'text', body: 'x' }, 'bad-frame'],
      [{ t: 'send', cid: 'k', conv: 'grp', kind: 'hologram', body: 'x' }, 'bad-frame'],
      [{ t: 'sync', cursors: { grp: -1 } }, 'bad-frame'],
      [{ t: 'history', req: 'h1', conv: 'grp', limit: 1000 }, 'bad-frame'],
      [{ t: 'read', conv: 'grp', seq: 'last' }, 'bad-frame'],
      [{ t: 'read', conv: 'ac', seq: 1 }, 'not-member'],
      [{ t: 'history', req: 'h2', conv: 'nowhere' }, 'unknown-conv'],
      [{ t: 'history', req: 'h3', conv: 'ac' }, 'not-member'],
      [{ t: 'upload-done', up: 'never' }, 'unknown-upload'],
      [{ t: 'download', req: 'd1', id: 'nothing' }, 'unknown-attachment'],
    ];
    for (const [frame] of hostile) x1.sendText(typeof frame === 'string' ? frame : JSON.stringify(frame));
    x1.ws.send(Buffer.from([200, 1, 2])); // binary frame with a bad chunk header
    await x1.settle();
    expect(x1.all((f) => f.t === 'nack')).toMatchObject([{ cid: 'early', code: 'invalid' }]);
    const errors = x1.all((f) => f.t === 'error');
    expect(errors.map((e) => e.code)).toEqual([...hostile.map(([, code]) => code), 'bad-chunk']);
    expect(errors[5]!.message).toContain('`cid`');
    expect(errors[5]!.ref).toBeUndefined();
    expect(errors[6]).toMatchObject({ ref: 'k' });
    expect(errors[11]).toMatchObject({ ref: 'h2' });
    // The same connection, and everyone else, still works:
    x1.send({ t: 'sync', cursors: { grp: 0 } });
    await x1.waitFor((f) => f.t === 'synced');
    x1.send({ t: 'send', cid: 'fine', conv: 'grp', kind: 'text', body: 'still here' });
    expect(await x1.waitFor((f) => f.t === 'ack')).toMatchObject({ seq: 1 });
    expect(await c1.waitFor((f) => f.t === 'msg')).toMatchObject({ cid: 'fine', body: 'still here' });
    expect((await fetch(s.url.replace('ws', 'http') + '/health')).status).toBe(200);
  });

  it('closes a connection with 4400 after more than 32 protocol errors in 10 s', async () => {
    const s = await start();
    const x1 = await pool.connect(s.url, 'x1');
    for (let i = 0; i < 40; i++) x1.sendText('garbage');
    expect((await x1.closed).code).toBe(4400);
  });

  it('answers unknown HTTP routes with 404 and refuses upgrades on other paths', async () => {
    const s = await start();
    const res = await fetch(s.url.replace('ws', 'http') + '/nope');
    expect(res.status).toBe(404);
    const { WebSocket } = await import('ws');
    const ws = new WebSocket(`${s.url}/other?device=a1&token=ta1`);
    const err = await new Promise<Error>((resolve) => ws.once('error', resolve));
    expect(err.message).toContain('404');
  });

  it('throws InvalidServerOptionsError naming each bad option', async () => {
    const err = await startReferenceServer({ port: -1, defects: ['gremlins' as never], defectRate: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidServerOptionsError);
    expect((err as InvalidServerOptionsError).code).toBe('CHATSTORM_ERR_SERVER_OPTIONS');
    expect((err as Error).message).toMatch(/port/);
    expect((err as Error).message).toMatch(/defects\.0/);
    expect((err as Error).message).toMatch(/defectRate/);
  });
});

describe('reference server slow consumers', () => {
  let server: ReferenceServer | undefined;
  const pool = new ClientPool();
  afterEach(async () => {
    pool.closeAll();
    await server?.close();
  });

  it('closes a device that stops reading with 4429 once its queue passes maxBufferedBytes, and keeps serving the others', async () => {
    server = await startReferenceServer({ port: 0, store: 'memory', rateLimit: null, maxBufferedBytes: 1024 * 1024 });
    await postJson(server.url, '/admin/provision', FIXTURE);
    const [a1, a2, c1] = await Promise.all(['a1', 'a2', 'c1'].map((d) => pool.live(server!.url, d)));
    (c1!.ws as unknown as { _socket: { pause(): void } })._socket.pause(); // c1 stops reading
    const body = 'x'.repeat(60_000);
    // Paced by acks, so a device that reads (a2) never has more than one message queued.
    for (let i = 0; i < 300 && c1!.ws.readyState === c1!.ws.OPEN; i++) {
      a1!.send({ t: 'send', cid: `s${i}`, conv: 'ac', kind: 'long-text', body });
      await a1!.waitFor((f) => f.t === 'ack' && f.cid === `s${i}`);
      await a2!.waitFor((f) => f.t === 'msg' && f.cid === `s${i}`);
    }
    (c1!.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    const closed = await c1!.closed;
    expect(closed.code).toBe(4429);
    expect(closed.reason).toContain('1048576');
    expect(a2!.ws.readyState).toBe(a2!.ws.OPEN);
  });
});
