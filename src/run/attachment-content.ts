/**
 * Attachment bytes for planned sends, without allocating per message: every attachment is a view
 * into one shared, seeded pool (allocated once, on the first attachment of a run), at an offset
 * derived from its key, so different messages carry different bytes and a replay sends the same
 * ones. Hashing runs on the thread pool (WebCrypto), off the event loop the runner measures.
 */
import { webcrypto } from 'node:crypto';
import { MAX_ATTACHMENT_BYTES } from '../protocol/frames.ts';
import type { MessageKind } from '../domain/index.ts';
import type { OutboundAttachment } from '../drivers/driver.ts';
import { Random } from '../plan/random.ts';

/** Pool size: the largest attachment plus room for 2 MiB of distinct offsets. */
const POOL_BYTES = MAX_ATTACHMENT_BYTES + 2 * 1024 * 1024;
let pool: Buffer | null = null;

function sharedPool(): Buffer {
  if (pool) return pool;
  const b = Buffer.allocUnsafe(POOL_BYTES);
  const r = new Random(0xa77ac4);
  for (let i = 0; i < POOL_BYTES; i += 4) b.writeUInt32LE(r.uint32(), i);
  pool = b;
  return b;
}

/** FNV-1a of a string, for the pool offset. */
function fnv(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** The attachments of send `key`, with their sha256. */
export async function attachmentsFor(key: string, kind: MessageKind, sizes: readonly number[]): Promise<OutboundAttachment[]> {
  const p = sharedPool();
  const safe = key.replace(/[^A-Za-z0-9._-]/g, '_');
  return Promise.all(
    sizes.map(async (size, i) => {
      const off = fnv(`${key}/${i}`) % (POOL_BYTES - size + 1);
      const bytes = p.subarray(off, off + size);
      const digest = await webcrypto.subtle.digest('SHA-256', bytes);
      const image = kind === 'image' && i < sizes.length - (sizes.length > 1 ? 1 : 0);
      return {
        name: `${safe}-${i + 1}.${image ? 'jpg' : 'pdf'}`,
        mime: image ? 'image/jpeg' : 'application/pdf',
        bytes,
        sha256: Buffer.from(digest).toString('hex'),
      };
    }),
  );
}
