/**
 * Attachment bytes over the device's WebSocket, in binary chunks tagged with a transfer id:
 *
 *   upload:    upload-start (name, mime, size, sha256) -> chunk* -> upload-done
 *              -> server checks size and sha256 -> `uploaded` (attachment id) or `error bad-upload`
 *   download:  download (req, id) -> owner or member of a conversation it was sent in?
 *              -> download-start -> chunk* -> download-done       (else `error not-member`)
 *
 * Download chunks wait for the previous one to reach the socket, so a slow link (bandwidth toxic)
 * slows the transfer instead of filling the server's memory.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import {
  DOWNLOAD_CHUNK_BYTES,
  decodeChunk,
  encodeChunk,
  type DownloadFrame,
  type UploadDoneFrame,
  type UploadStartFrame,
} from '../protocol/frames.ts';
import type { AttachmentAccess } from './attachment-access.ts';
import type { Defects } from './defects.ts';
import type { DeviceSession } from './device-session.ts';
import type { Store } from './store.ts';

/** Most uploads one connection may have open at once. */
export const MAX_OPEN_UPLOADS = 8;

interface OpenUpload {
  start: UploadStartFrame;
  chunks: Buffer[];
  received: number;
  hash: Hash;
}

/** Reports a protocol error to the device (and counts it). */
export type ReportError = (code: string, message: string, ref?: string) => void;

/** Attachment uploads and downloads of one device connection. */
export class AttachmentTransfer {
  private readonly uploads = new Map<string, OpenUpload>();
  /** Uploads already refused: their remaining chunks are dropped without more errors. */
  private readonly refused = new Set<string>();

  constructor(
    private readonly session: DeviceSession,
    private readonly store: Store,
    private readonly defects: Defects,
    private readonly access: AttachmentAccess,
    private readonly report: ReportError,
  ) {}

  start(f: UploadStartFrame): void {
    this.refused.delete(f.up);
    if (this.uploads.has(f.up)) {
      this.refuse(f.up, 'bad-upload', `upload ${JSON.stringify(f.up)} is already open; use a new \`up\` id`);
      return;
    }
    if (this.uploads.size >= MAX_OPEN_UPLOADS) {
      this.refuse(f.up, 'bad-upload', `at most ${MAX_OPEN_UPLOADS} uploads may be open on one connection; finish one first`);
      return;
    }
    this.uploads.set(f.up, { start: f, chunks: [], received: 0, hash: createHash('sha256') });
  }

  chunk(frame: Buffer): void {
    const c = decodeChunk(frame);
    if (!c) {
      this.report('bad-chunk', 'binary frame must start with a 1-byte id length (1..64) and the ASCII transfer id');
      return;
    }
    const up = this.uploads.get(c.id);
    if (!up) {
      if (!this.refused.has(c.id)) this.refuse(c.id, 'unknown-upload', `no open upload ${JSON.stringify(c.id)}; send upload-start first`);
      return;
    }
    up.received += c.payload.length;
    if (up.received > up.start.size) {
      this.uploads.delete(c.id);
      this.refuse(c.id, 'bad-upload', `upload ${JSON.stringify(c.id)} declared ${up.start.size} bytes, got more`);
      return;
    }
    // The payload is a view into ws's receive buffer; keep a copy.
    const bytes = Buffer.from(c.payload);
    up.chunks.push(bytes);
    up.hash.update(bytes);
  }

  done(f: UploadDoneFrame): void {
    const up = this.uploads.get(f.up);
    if (!up) {
      this.report('unknown-upload', `no open upload ${JSON.stringify(f.up)}; send upload-start first`, f.up);
      return;
    }
    this.uploads.delete(f.up);
    const sha = up.hash.digest('hex');
    if (up.received !== up.start.size || sha !== up.start.sha256) {
      this.report(
        'bad-upload',
        `upload ${JSON.stringify(f.up)} declared ${up.start.size} bytes with sha256 ${up.start.sha256}, ` +
          `got ${up.received} bytes with sha256 ${sha}; upload it again`,
        f.up,
      );
      return;
    }
    const ref = {
      id: `a${randomBytes(12).toString('hex')}`,
      name: up.start.name,
      mime: up.start.mime,
      size: up.start.size,
      sha256: sha,
    };
    try {
      this.store.putAttachment({ ref, bytes: Buffer.concat(up.chunks, up.received), owner: this.session.account });
    } catch (err) {
      this.report('unavailable', `could not store upload ${JSON.stringify(f.up)}: ${String(err)}`, f.up);
      return;
    }
    this.session.send({ t: 'uploaded', up: f.up, attachment: ref });
  }

  async download(f: DownloadFrame): Promise<void> {
    const att = this.store.attachment(f.id);
    if (!att) {
      this.report('unknown-attachment', `no attachment ${JSON.stringify(f.id)}`, f.req);
      return;
    }
    // leak-attachment: serve it anyway, to an account that is in none of its conversations.
    if (!this.access.allows(this.session.account, att) && !this.defects.fires('leak-attachment')) {
      this.report(
        'not-member',
        `account ${JSON.stringify(this.session.account)} may not download attachment ${JSON.stringify(f.id)}: ` +
          'it was not sent in a conversation this account is a member of (nor uploaded by it)',
        f.req,
      );
      return;
    }
    this.session.send({ t: 'download-start', req: f.req, attachment: att.ref });
    const size = att.bytes.length;
    // corrupt-attachment: flip one byte of this download (the stored bytes stay intact).
    const flipAt = this.defects.fires('corrupt-attachment') ? this.defects.pick(size) : -1;
    for (let off = 0; off < size; off += DOWNLOAD_CHUNK_BYTES) {
      if (this.session.isClosed) return;
      let slice = att.bytes.subarray(off, Math.min(size, off + DOWNLOAD_CHUNK_BYTES));
      if (flipAt >= off && flipAt < off + slice.length) {
        slice = Buffer.from(slice);
        slice[flipAt - off] = (slice[flipAt - off] as number) ^ 0xff;
      }
      await this.session.sendAndFlush(encodeChunk(f.req, slice));
    }
    this.session.send({ t: 'download-done', req: f.req });
  }

  private refuse(id: string, code: string, message: string): void {
    this.refused.add(id);
    if (this.refused.size > 1024) this.refused.clear();
    this.report(code, message, id);
  }
}
