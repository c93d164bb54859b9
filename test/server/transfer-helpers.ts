/** Test helpers: upload and download attachments over a RawClient with the binary chunk format. */
import { createHash } from 'node:crypto';
import { decodeChunk, encodeChunk, type AttachmentRef } from '../../src/protocol/frames.ts';
import type { RawClient } from './raw-client.ts';

export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

export async function upload(c: RawClient, up: string, bytes: Buffer, opts: { chunk?: number; name?: string; mime?: string; sha?: string } = {}): Promise<AttachmentRef> {
  c.send({ t: 'upload-start', up, name: opts.name ?? `${up}.bin`, mime: opts.mime ?? 'application/octet-stream', size: bytes.length, sha256: opts.sha ?? sha256(bytes) });
  const step = opts.chunk ?? 200_000;
  for (let off = 0; off < bytes.length; off += step) c.ws.send(encodeChunk(up, bytes.subarray(off, off + step)));
  c.send({ t: 'upload-done', up });
  const f = await c.waitFor((x) => (x.t === 'uploaded' || x.t === 'error') && (x.up === up || x.ref === up), 10_000);
  if (f.t !== 'uploaded') throw new Error(`upload ${up} failed: ${JSON.stringify(f)}`);
  return f.attachment as AttachmentRef;
}

export async function download(c: RawClient, req: string, id: string): Promise<{ ref: AttachmentRef; bytes: Buffer }> {
  const startIdx = c.binary.length;
  c.send({ t: 'download', req, id });
  const start = await c.waitFor((f) => f.t === 'download-start' && f.req === req, 10_000);
  await c.waitFor((f) => f.t === 'download-done' && f.req === req, 10_000);
  const parts = c.binary
    .slice(startIdx)
    .map((b) => decodeChunk(b))
    .filter((x) => x?.id === req)
    .map((x) => x!.payload);
  return { ref: start.attachment as AttachmentRef, bytes: Buffer.concat(parts) };
}
