/**
 * Who may reach what on the reference server: attachments only for their owner and the members
 * of the conversations they were sent in; the admin API and device connections only with the
 * server token when one is set (always beyond loopback).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  InvalidServerOptionsError,
  isLoopbackHost,
  resolveServerOptions,
  startReferenceServer,
  type ReferenceServer,
} from '../../src/server/index.ts';
import { ClientPool, FIXTURE, postJson, type Frame } from './raw-client.ts';
import { download, upload } from './transfer-helpers.ts';

describe.each(['memory', 'sqlite'] as const)('attachment access (%s store)', (store) => {
  let server: ReferenceServer | undefined;
  const pool = new ClientPool();
  afterEach(async () => {
    pool.closeAll();
    await server?.close();
    server = undefined;
  });

  async function start(): Promise<ReferenceServer> {
    server = await startReferenceServer({ port: 0, store });
    await postJson(server.url, '/admin/provision', FIXTURE);
    return server;
  }
  const refusal = (c: { waitFor: (p: (f: Frame) => boolean) => Promise<Frame> }, req: string) =>
    c.waitFor((f) => (f.t === 'error' || f.t === 'download-start') && (f.ref === req || f.req === req));

  it('serves an attachment to members of the conversation it was sent in and refuses everyone else with not-member', async () => {
    const s = await start();
    const [a1, a2, c1, x1] = await Promise.all([pool.live(s.url, 'a1'), pool.live(s.url, 'a2'), pool.live(s.url, 'c1'), pool.live(s.url, 'x1')]);
    const bytes = randomBytes(5000);
    const ref = await upload(a1, 'u', bytes);

    // Uploaded but not sent yet: only the uploading account may fetch it.
    c1.send({ t: 'download', req: 'early', id: ref.id });
    expect(await refusal(c1, 'early')).toMatchObject({ t: 'error', code: 'not-member', ref: 'early' });
    expect((await download(a2, 'own', ref.id)).bytes.equals(bytes)).toBe(true);

    a1.send({ t: 'send', cid: 'img', conv: 'ac', kind: 'image', body: '', attachments: [ref] });
    await c1.waitFor((f) => f.t === 'msg' && f.cid === 'img');
    expect((await download(c1, 'member', ref.id)).bytes.equals(bytes)).toBe(true);

    x1.send({ t: 'download', req: 'stranger', id: ref.id });
    const err = await refusal(x1, 'stranger');
    expect(err).toMatchObject({ t: 'error', code: 'not-member', ref: 'stranger' });
    expect(err.message).toContain('account "X" may not download attachment');
    expect(x1.binary).toHaveLength(0);

    // The stranger cannot launder the id through a conversation of its own.
    x1.send({ t: 'send', cid: 'fwd', conv: 'grp', kind: 'image', body: '', attachments: [ref] });
    expect(await x1.waitFor((f) => f.t === 'nack' && f.cid === 'fwd')).toMatchObject({ code: 'not-member' });

    // A member may forward it; then the other conversation's members may fetch it too.
    c1.send({ t: 'send', cid: 'fwd', conv: 'grp', kind: 'image', body: 'fwd', attachments: [ref] });
    await x1.waitFor((f) => f.t === 'msg' && f.cid === 'fwd');
    expect((await download(x1, 'now', ref.id)).bytes.equals(bytes)).toBe(true);
  });

  it('keeps a stranger connection usable after a refused download', async () => {
    const s = await start();
    const [a1, x1] = await Promise.all([pool.live(s.url, 'a1'), pool.live(s.url, 'x1')]);
    const ref = await upload(a1, 'u', randomBytes(100));
    a1.send({ t: 'send', cid: 'img', conv: 'ac', kind: 'image', body: '', attachments: [ref] });
    await a1.waitFor((f) => f.t === 'ack');
    x1.send({ t: 'download', req: 'no', id: ref.id });
    await x1.waitFor((f) => f.t === 'error' && f.ref === 'no');
    x1.send({ t: 'send', cid: 'ok', conv: 'grp', kind: 'text', body: 'still here' });
    expect(await x1.waitFor((f) => f.t === 'ack' && f.cid === 'ok')).toMatchObject({ conv: 'grp' });
  });
});

describe('attachment access after a restart (sqlite store)', () => {
  it('still knows the owner and the conversations an attachment was sent in', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chatstorm-access-'));
    const pool = new ClientPool();
    const dbPath = join(dir, 'chat.db');
    let server = await startReferenceServer({ port: 0, dbPath });
    try {
      await postJson(server.url, '/admin/provision', FIXTURE);
      const a1 = await pool.live(server.url, 'a1');
      const bytes = randomBytes(777);
      const ref = await upload(a1, 'u', bytes);
      a1.send({ t: 'send', cid: 'img', conv: 'ac', kind: 'image', body: '', attachments: [ref] });
      await a1.waitFor((f) => f.t === 'ack');
      pool.closeAll();
      await server.close();
      server = await startReferenceServer({ port: 0, dbPath });
      const [c1, x1] = await Promise.all([pool.live(server.url, 'c1'), pool.live(server.url, 'x1')]);
      expect((await download(c1, 'd', ref.id)).bytes.equals(bytes)).toBe(true);
      x1.send({ t: 'download', req: 'd', id: ref.id });
      expect(await x1.waitFor((f) => f.t === 'error' && f.ref === 'd')).toMatchObject({ code: 'not-member' });
    } finally {
      pool.closeAll();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('server token', () => {
  it('tells loopback hosts from the rest', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.5', '192.168.1.2', 'chat.example.com', '::ffff:10.0.0.1']) expect(isLoopbackHost(h), h).toBe(false);
  });

  it('needs no token on loopback and makes a random one for any other host', () => {
    expect(resolveServerOptions({ host: '127.0.0.1' }).token).toBeNull();
    const a = resolveServerOptions({ host: '0.0.0.0' }).token;
    const b = resolveServerOptions({ host: '0.0.0.0' }).token;
    expect(a).toMatch(/^[0-9a-f]{48}$/);
    expect(b).not.toBe(a);
    expect(resolveServerOptions({ host: '10.1.2.3', token: 'a-token-of-my-own-choice' }).token).toBe('a-token-of-my-own-choice');
  });

  it('refuses a short token, naming the field', () => {
    const err = (() => {
      try {
        resolveServerOptions({ host: '0.0.0.0', token: 'short' });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(InvalidServerOptionsError);
    expect((err as InvalidServerOptionsError).code).toBe('CHATSTORM_ERR_SERVER_OPTIONS');
    expect((err as Error).message).toMatch(/token: must be at least 16 characters/);
  });

  describe('when set', () => {
    const TOKEN = 'test-server-token-0123456789';
    let server: ReferenceServer;
    const pool = new ClientPool();
    afterEach(async () => {
      pool.closeAll();
      await server.close();
    });
    const http = (path: string, init: RequestInit = {}) => fetch(server.url.replace(/^ws/, 'http') + path, init);
    const provision = (auth?: string) =>
      http('/admin/provision', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(auth === undefined ? {} : { authorization: auth }) },
        body: JSON.stringify(FIXTURE),
      });
    function upgrade(query: string, headers: Record<string, string> = {}): Promise<{ welcome: boolean; code?: number; reason?: string }> {
      return new Promise((resolve) => {
        const ws = new WebSocket(`${server.url}/ws?${query}`, { headers });
        ws.on('error', () => {});
        ws.on('message', (d: Buffer) => {
          if ((JSON.parse(d.toString()) as { t: string }).t === 'welcome') {
            resolve({ welcome: true });
            ws.terminate();
          }
        });
        ws.on('close', (code, reason) => resolve({ welcome: false, code, reason: reason.toString() }));
      });
    }

    it('answers admin calls without the token with 401 and a message saying how to send it', async () => {
      server = await startReferenceServer({ port: 0, store: 'memory', token: TOKEN });
      expect(server.token).toBe(TOKEN);
      for (const auth of [undefined, 'Bearer wrong-token-wrong-token', TOKEN, `Basic ${TOKEN}`]) {
        const res = await provision(auth);
        expect(res.status, String(auth)).toBe(401);
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
        expect(((await res.json()) as { error: string }).error).toMatch(/server token required: send "Authorization: Bearer <token>"/);
      }
      expect((await http('/admin/stats')).status).toBe(401);
      expect((await http('/admin/preload', { method: 'POST', body: '{}' })).status).toBe(401);
      expect(server.store.conversation('ac')).toBeUndefined();
      // Health stays open (liveness probes carry no secrets).
      expect((await http('/health')).status).toBe(200);

      expect((await provision(`Bearer ${TOKEN}`)).status).toBe(200);
      expect(server.store.conversation('ac')).toBeDefined();
      expect((await http('/admin/stats', { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    });

    it('closes a device connection without the token with 4401, and accepts it in the header or the key parameter', async () => {
      server = await startReferenceServer({ port: 0, store: 'memory', token: TOKEN });
      expect((await provision(`Bearer ${TOKEN}`)).status).toBe(200);
      const without = await upgrade('device=a1&token=ta1');
      expect(without).toMatchObject({ welcome: false, code: 4401 });
      expect(without.reason).toMatch(/server token required/);
      expect(await upgrade('device=a1&token=ta1&key=nope')).toMatchObject({ welcome: false, code: 4401 });
      expect(await upgrade('device=a1&token=ta1', { authorization: `Bearer ${TOKEN}` })).toEqual({ welcome: true });
      expect(await upgrade(`device=a1&token=ta1&key=${TOKEN}`)).toEqual({ welcome: true });
      // The server token does not replace the device's own.
      expect(await upgrade('device=a1&token=wrong', { authorization: `Bearer ${TOKEN}` })).toMatchObject({ welcome: false, code: 4401 });
    });

    it('keeps a loopback server without a token open as before', async () => {
      server = await startReferenceServer({ port: 0, store: 'memory' });
      expect(server.token).toBeNull();
      expect((await provision()).status).toBe(200);
      expect(await upgrade('device=a1&token=ta1')).toEqual({ welcome: true });
    });
  });
});
