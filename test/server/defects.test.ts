import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { startReferenceServer, type DefectName, type ReferenceServer } from '../../src/server/index.ts';
import { ClientPool, FIXTURE, postJson, sleep, type Frame, type RawClient } from './raw-client.ts';
import { download, upload } from './transfer-helpers.ts';

// Each defect at rate 1 (always fires) so its symptom is certain; the last test checks that a
// fractional rate is reproducible from the seed.
describe('reference server defect modes', () => {
  let server: ReferenceServer | undefined;
  const pool = new ClientPool();
  afterEach(async () => {
    pool.closeAll();
    await server?.close();
    server = undefined;
  });

  async function start(defect: DefectName, defectRate = 1, seed = 1): Promise<ReferenceServer> {
    server = await startReferenceServer({ port: 0, store: 'memory', defects: [defect], defectRate, seed, rateLimit: null });
    await postJson(server.url, '/admin/provision', FIXTURE);
    return server;
  }
  async function sendAll(c: RawClient, conv: string, n: number, prefix = 'k'): Promise<Frame[]> {
    for (let i = 1; i <= n; i++) c.send({ t: 'send', cid: `${prefix}${i}`, conv, kind: 'text', body: `m${i}` });
    return Promise.all(Array.from({ length: n }, (_, i) => c.waitFor((f) => f.t === 'ack' && f.cid === `${prefix}${i + 1}`)));
  }
  const msgSeqs = (c: RawClient): number[] => c.all((f) => f.t === 'msg').map((m) => m.seq as number);

  it('drop-fanout: an acked message never reaches a live recipient, and only a resync recovers it', async () => {
    const s = await start('drop-fanout');
    const [a1, c1] = await Promise.all([pool.live(s.url, 'a1'), pool.live(s.url, 'c1')]);
    await sendAll(a1, 'ac', 3);
    await sleep(50);
    await c1.settle();
    expect(msgSeqs(c1)).toEqual([]);
    const again = await pool.live(s.url, 'c1', { ac: 0 });
    expect(msgSeqs(again)).toEqual([1, 2, 3]);
  });

  it('no-dedup: a resent cid is stored again under a new id and seq and delivered twice', async () => {
    const s = await start('no-dedup');
    const [a1, c1] = await Promise.all([pool.live(s.url, 'a1'), pool.live(s.url, 'c1')]);
    const [first] = await sendAll(a1, 'ac', 1, 'same');
    a1.send({ t: 'send', cid: 'same1', conv: 'ac', kind: 'text', body: 'm1' });
    const second = await a1.waitFor((f) => f.t === 'ack' && f !== first && f.cid === 'same1');
    expect(second.id).not.toBe(first!.id);
    expect(second.seq).toBe(2);
    await c1.waitFor((f) => f.t === 'msg' && f.seq === 2);
    expect(c1.all((f) => f.t === 'msg').map((m) => [m.cid, m.id])).toEqual([['same1', first!.id], ['same1', second.id]]);
  });

  it('reorder: consecutive messages of a conversation arrive swapped at a device', async () => {
    const s = await start('reorder');
    const [a1, c1] = await Promise.all([pool.live(s.url, 'a1'), pool.live(s.url, 'c1')]);
    await sendAll(a1, 'ac', 4);
    await c1.waitFor((f) => f.t === 'msg' && f.seq === 3);
    expect(msgSeqs(c1)).toEqual([2, 1, 4, 3]);
  });

  it('stale-unread: after a read, the other devices of the account keep the old unread count', async () => {
    const s = await start('stale-unread');
    const [a1, a2, c1] = await Promise.all(['a1', 'a2', 'c1'].map((d) => pool.live(s.url, d)));
    await sendAll(c1!, 'ac', 2);
    await a2!.waitFor((f) => f.t === 'unread' && f.count === 2);
    a1!.send({ t: 'read', conv: 'ac', seq: 2 });
    expect(await a1!.waitFor((f) => f.t === 'unread' && f.readSeq === 2)).toMatchObject({ count: 0 });
    await sleep(50);
    await a2!.settle();
    expect(a2!.all((f) => f.t === 'unread').at(-1)).toMatchObject({ count: 2, readSeq: 0 });
  });

  it('history-gap: a page silently leaves out a message in its middle', async () => {
    const s = await start('history-gap');
    const a1 = await pool.live(s.url, 'a1');
    await sendAll(a1, 'grp', 5);
    a1.send({ t: 'history', req: 'h', conv: 'grp' });
    const page = await a1.waitFor((f) => f.t === 'page');
    const seqs = (page.messages as Frame[]).map((m) => m.seq as number);
    expect(seqs).toHaveLength(4);
    expect(seqs[0]).toBe(1);
    expect(seqs[3]).toBe(5);
    expect(page.hasMore).toBe(false);
  });

  it('history-cutoff: pages reaching more than 10,000 messages back lose what lies below, and say there is no more', async () => {
    const s = await start('history-cutoff');
    await postJson(s.url, '/admin/preload', { conv: 'grp', count: 10_050 });
    const a1 = await pool.live(s.url, 'a1');
    // Above the cut-off (seq 50): untouched.
    a1.send({ t: 'history', req: 'new', conv: 'grp', limit: 100 });
    const newest = await a1.waitFor((f) => f.t === 'page' && f.req === 'new');
    expect((newest.messages as Frame[]).map((m) => m.seq)).toEqual(Array.from({ length: 100 }, (_, i) => 9951 + i));
    expect(newest.hasMore).toBe(true);
    // Across it: only what lies above 50, and no more.
    a1.send({ t: 'history', req: 'across', conv: 'grp', before: 101, limit: 100 });
    const across = await a1.waitFor((f) => f.t === 'page' && f.req === 'across');
    expect((across.messages as Frame[]).map((m) => m.seq)).toEqual(Array.from({ length: 50 }, (_, i) => 51 + i));
    expect(across.hasMore).toBe(false);
    // Below it: nothing.
    a1.send({ t: 'history', req: 'old', conv: 'grp', after: 0, limit: 20 });
    const old = await a1.waitFor((f) => f.t === 'page' && f.req === 'old');
    expect(old.messages).toEqual([]);
    expect(old.hasMore).toBe(false);
    expect(s.defectsFired.get('history-cutoff')).toBe(2);
  });

  it('leak: a message is pushed to a device of an account outside the conversation', async () => {
    const s = await start('leak');
    const [a1, x1] = await Promise.all([pool.live(s.url, 'a1'), pool.live(s.url, 'x1')]);
    await sendAll(a1, 'ac', 1);
    expect(await x1.waitFor((f) => f.t === 'msg')).toMatchObject({ conv: 'ac', cid: 'k1' });
  });

  it('leak: the stranger shown a message may also download its attachments (one whole leaked message)', async () => {
    const s = await start('leak');
    const [a1, x1] = await Promise.all([pool.live(s.url, 'a1'), pool.live(s.url, 'x1')]);
    const bytes = randomBytes(2000);
    const ref = await upload(a1, 'u', bytes);
    a1.send({ t: 'send', cid: 'img', conv: 'ac', kind: 'image', body: '', attachments: [ref] });
    expect(await x1.waitFor((f) => f.t === 'msg')).toMatchObject({ conv: 'ac', cid: 'img' });
    expect((await download(x1, 'd', ref.id)).bytes.equals(bytes)).toBe(true);
  });

  it('leak-attachment: an account in none of the attachment\'s conversations downloads it', async () => {
    const s = await start('leak-attachment');
    const [a1, x1] = await Promise.all([pool.live(s.url, 'a1'), pool.live(s.url, 'x1')]);
    const bytes = randomBytes(3000);
    const ref = await upload(a1, 'u', bytes);
    a1.send({ t: 'send', cid: 'img', conv: 'ac', kind: 'image', body: '', attachments: [ref] });
    await a1.waitFor((f) => f.t === 'ack');
    expect((await download(x1, 'd', ref.id)).bytes.equals(bytes)).toBe(true);
    expect(s.defectsFired.get('leak-attachment')).toBe(1);
    // The owner's own download is no opportunity: it is allowed anyway.
    await download(a1, 'own', ref.id);
    expect(s.defectsFired.get('leak-attachment')).toBe(1);
  });

  it('corrupt-attachment: a download differs from the upload in exactly one byte', async () => {
    const s = await start('corrupt-attachment');
    const a1 = await pool.live(s.url, 'a1');
    const bytes = randomBytes(600_000);
    const ref = await upload(a1, 'u', bytes);
    const got = await download(a1, 'd', ref.id);
    expect(got.bytes.length).toBe(bytes.length);
    let diff = 0;
    for (let i = 0; i < bytes.length; i++) if (got.bytes[i] !== bytes[i]) diff++;
    expect(diff).toBe(1);
  });

  it('fires at a fractional rate reproducibly: the same seed drops the same deliveries', async () => {
    const delivered: number[][] = [];
    for (let run = 0; run < 2; run++) {
      const s = await start('drop-fanout', 0.3, 42);
      const [a1, c1] = await Promise.all([pool.live(s.url, 'a1'), pool.live(s.url, 'c1')]);
      await sendAll(a1, 'ac', 60);
      await c1.settle();
      delivered.push(msgSeqs(c1));
      expect(s.defectsFired.get('drop-fanout')).toBe(60 - msgSeqs(c1).length);
      pool.closeAll();
      await s.close();
      server = undefined;
    }
    expect(delivered[0]).toEqual(delivered[1]);
    expect(delivered[0]!.length).toBeGreaterThan(25);
    expect(delivered[0]!.length).toBeLessThan(58);
  });
});
