import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_ATTACHMENT_BYTES, encodeChunk } from '../../src/protocol/frames.ts';
import { startReferenceServer, type ReferenceServer } from '../../src/server/index.ts';
import { ClientPool, FIXTURE, postJson, type Frame } from './raw-client.ts';
import { download, sha256, upload } from './transfer-helpers.ts';

describe.each(['memory', 'sqlite'] as const)('attachments over the WebSocket (%s store)', (store) => {
  let server: ReferenceServer;
  const pool = new ClientPool();
  beforeEach(async () => {
    server = await startReferenceServer({ port: 0, store });
    await postJson(server.url, '/admin/provision', FIXTURE);
  });
  afterEach(async () => {
    pool.closeAll();
    await server.close();
  });

  it('uploads two attachments in chunks, sends them in one message, and downloads them byte-identical', async () => {
    const [a1, c1] = await Promise.all([pool.live(server.url, 'a1'), pool.live(server.url, 'c1')]);
    const image = randomBytes(3_000_000);
    const doc = randomBytes(1234);
    const [imgRef, docRef] = await Promise.all([
      upload(a1, 'img', image, { name: 'photo.jpg', mime: 'image/jpeg' }),
      upload(a1, 'doc', doc, { name: 'invoice.pdf', mime: 'application/pdf' }),
    ]);
    expect(imgRef).toMatchObject({ name: 'photo.jpg', mime: 'image/jpeg', size: 3_000_000, sha256: sha256(image) });
    a1.send({ t: 'send', cid: 'pics', conv: 'ac', kind: 'image', body: 'see attached', attachments: [imgRef, docRef] });
    await a1.waitFor((f) => f.t === 'ack');
    const msg = await c1.waitFor((f) => f.t === 'msg');
    expect(msg.attachments).toEqual([imgRef, docRef]);
    const got = await download(c1, 'd-img', imgRef.id);
    expect(got.ref).toEqual(imgRef);
    expect(got.bytes.equals(image)).toBe(true);
    expect((await download(c1, 'd-doc', docRef.id)).bytes.equals(doc)).toBe(true);
  });

  it('accepts a 10 MiB attachment', async () => {
    const a1 = await pool.live(server.url, 'a1');
    const big = randomBytes(MAX_ATTACHMENT_BYTES);
    const ref = await upload(a1, 'big', big, { chunk: 1_000_000 });
    expect(ref.size).toBe(MAX_ATTACHMENT_BYTES);
    expect((await download(a1, 'dl', ref.id)).bytes.equals(big)).toBe(true);
  });

  it('refuses an upload whose bytes do not match the declared sha256 or size', async () => {
    const a1 = await pool.live(server.url, 'a1');
    const bytes = randomBytes(5000);
    await expect(upload(a1, 'liar', bytes, { sha: sha256(Buffer.from('other')) })).rejects.toThrow(/bad-upload/);
    const err = a1.all((f) => f.t === 'error' && f.ref === 'liar')[0]!;
    expect(err.message).toMatch(/declared 5000 bytes with sha256 .* got 5000 bytes with sha256/);
    a1.send({ t: 'upload-start', up: 'over', name: 'x', mime: 'x/y', size: 10, sha256: sha256(Buffer.alloc(10)) });
    a1.ws.send(encodeChunk('over', Buffer.alloc(11)));
    expect(await a1.waitFor((f) => f.t === 'error' && f.ref === 'over')).toMatchObject({ code: 'bad-upload' });
    a1.send({ t: 'upload-start', up: 'huge', name: 'x', mime: 'x/y', size: MAX_ATTACHMENT_BYTES + 1, sha256: sha256(Buffer.alloc(1)) });
    expect(await a1.waitFor((f) => f.t === 'error' && f.ref === 'huge')).toMatchObject({ code: 'bad-frame' });
  });

  it('nacks a message that references an attachment that was never uploaded', async () => {
    const a1 = await pool.live(server.url, 'a1');
    const fake = { id: 'a0000', name: 'x', mime: 'x/y', size: 1, sha256: sha256(Buffer.alloc(1)) };
    a1.send({ t: 'send', cid: 'fake', conv: 'ac', kind: 'file', body: '', attachments: [fake] });
    const nack: Frame = await a1.waitFor((f) => f.t === 'nack');
    expect(nack).toMatchObject({ cid: 'fake', code: 'invalid' });
    expect(nack.message).toContain('a0000');
  });
});
