/**
 * The reference chat protocol, version 1: JSON text frames over one WebSocket per device.
 * `docs/protocol.md` is the normative description; these types are its TypeScript mirror.
 *
 *   device                                   server
 *     | -- HTTP upgrade /ws?device=D&token=T --> |   bad token: close 4401
 *     | <------------- welcome ----------------- |   conversations, lastSeq, unread
 *     | -------------- sync (cursors) ---------> |   device is not live until it syncs
 *     | <------------- msg* (replay), synced --- |
 *     | -------------- send (cid) -------------> |
 *     | <------------- ack (id, seq) / nack ---- |   idempotent by cid
 *     | <------------- msg (live fan-out) ------ |   every device of every member but the sender's
 *     | -------------- read (conv, seq) -------> |
 *     | <------------- unread (count) ---------- |   to every device of the account
 *     | -------------- history (req) ----------> |
 *     | <------------- page (req) -------------- |
 */

// The protocol carries the harness's domain words as they are (src/domain).
import type { MessageKind, Role } from '../domain/index.ts';
export type { MessageKind, Role };
export { MESSAGE_KINDS } from '../domain/index.ts';

/** Protocol version carried in `welcome.protocol`. */
export const PROTOCOL_VERSION = 1;

/** WebSocket close codes the reference server uses (4000–4999 are application codes). */
export const CloseCode = {
  /** Missing or wrong token, unknown device. */
  unauthorized: 4401,
  /** A frame larger than the server's maximum. */
  frameTooLarge: 4413,
  /** Too many protocol errors on one connection. */
  protocolError: 4400,
  /** The same device connected again; the older connection is closed. */
  replaced: 4409,
  /** The server is shutting down. */
  goingAway: 1001,
  /** The device did not read its socket: more than the server's send-buffer limit was queued. */
  slowConsumer: 4429,
} as const;

/** Largest `send.body`, in UTF-8 bytes (long text up to 64 KiB is accepted). */
export const MAX_BODY_BYTES = 65_536;
/** Largest attachment, in bytes (10 MiB). */
export const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;
/** Most attachments one message may carry. */
export const MAX_ATTACHMENTS_PER_MESSAGE = 10;
/** Size of the binary chunks the server sends on `download` (clients may upload any chunk size up to the frame limit). */
export const DOWNLOAD_CHUNK_BYTES = 256 * 1024;
/** Longest transfer id (`up` / `req`) that can prefix a binary chunk, in bytes of ASCII. */
export const MAX_TRANSFER_ID_BYTES = 64;

/** An attachment reference inside a message (bytes are uploaded separately; see docs/protocol.md). */
export interface AttachmentRef {
  /** Server attachment id. */
  id: string;
  name: string;
  mime: string;
  size: number;
  /** Lower-case hex sha256 of the bytes. */
  sha256: string;
}

// ---------------------------------------------------------------- client -> server

export interface SendFrame {
  t: 'send';
  /** Client message id: unique per sending device; a resend with the same cid is idempotent. */
  cid: string;
  conv: string;
  kind: MessageKind;
  body: string;
  attachments?: AttachmentRef[];
}
export interface SyncFrame {
  t: 'sync';
  /** Last sequence number this device has seen, per conversation. Absent conversations are not replayed. */
  cursors: Record<string, number>;
}
export interface HistoryFrame {
  t: 'history';
  /** Request id echoed in the page. */
  req: string;
  conv: string;
  /** Messages with seq < before (newest first page when both are absent). */
  before?: number;
  /** Messages with seq > after. */
  after?: number;
  /** 1..200, default 50. */
  limit?: number;
}
export interface ReadFrame {
  t: 'read';
  conv: string;
  /** Everything up to and including this seq has been read by the account. */
  seq: number;
}
export interface PingFrame {
  t: 'ping';
  ts?: number;
}
/**
 * Begin an attachment upload. The bytes follow as binary chunks tagged with `up`
 * (see {@link encodeChunk}); `upload-done` asks the server to verify and store them.
 */
export interface UploadStartFrame {
  t: 'upload-start';
  /** Client upload id, 1..64 ASCII characters, unique among this connection's open uploads. */
  up: string;
  name: string;
  mime: string;
  /** Exact byte count, 1..MAX_ATTACHMENT_BYTES. */
  size: number;
  /** Lower-case hex sha256 of the bytes; the server refuses the upload if it does not match. */
  sha256: string;
}
export interface UploadDoneFrame {
  t: 'upload-done';
  up: string;
}
/** Ask for an attachment's bytes: `download-start`, binary chunks tagged with `req`, `download-done`. */
export interface DownloadFrame {
  t: 'download';
  /** Request id, 1..64 ASCII characters; tags the binary chunks of the answer. */
  req: string;
  /** Attachment id from `uploaded` or a message's `attachments`. */
  id: string;
}
export type ClientFrame =
  | SendFrame
  | SyncFrame
  | HistoryFrame
  | ReadFrame
  | PingFrame
  | UploadStartFrame
  | UploadDoneFrame
  | DownloadFrame;

// ---------------------------------------------------------------- server -> client

export interface ConversationInfo {
  conv: string;
  kind: 'direct' | 'group';
  members: string[];
  lastSeq: number;
  readSeq: number;
  unread: number;
}
export interface WelcomeFrame {
  t: 'welcome';
  protocol: number;
  account: string;
  device: string;
  serverTime: number;
  convs: ConversationInfo[];
}
export interface AckFrame {
  t: 'ack';
  cid: string;
  conv: string;
  /** Server message id. */
  id: string;
  seq: number;
  /** Server time, ms since epoch. */
  ts: number;
}
export type NackCode = 'rate-limited' | 'not-member' | 'too-large' | 'invalid' | 'unavailable';
export interface NackFrame {
  t: 'nack';
  cid: string;
  conv: string;
  code: NackCode;
  message: string;
  /** Present with `rate-limited`: when a resend may succeed. */
  retryAfterMs?: number;
}
export interface MessageFrame {
  t: 'msg';
  id: string;
  conv: string;
  seq: number;
  from: { account: string; device: string };
  cid: string;
  kind: MessageKind;
  body: string;
  ts: number;
  attachments?: AttachmentRef[];
  /** True when sent as part of a sync replay rather than live fan-out. */
  replay?: boolean;
}
export interface SyncedFrame {
  t: 'synced';
  conv: string;
  lastSeq: number;
}
export interface UnreadFrame {
  t: 'unread';
  conv: string;
  count: number;
  readSeq: number;
}
export interface PageFrame {
  t: 'page';
  req: string;
  conv: string;
  messages: Omit<MessageFrame, 't' | 'replay'>[];
  hasMore: boolean;
}
export interface ErrorFrame {
  t: 'error';
  code: string;
  message: string;
  /** The cid or req of the offending frame, when known. */
  ref?: string;
}
export interface PongFrame {
  t: 'pong';
  ts?: number;
  serverTime: number;
}
/** The upload `up` was verified and stored; `attachment` may now be referenced in `send`. */
export interface UploadedFrame {
  t: 'uploaded';
  up: string;
  attachment: AttachmentRef;
}
/** First answer to `download`; `attachment.size` bytes follow as binary chunks tagged with `req`. */
export interface DownloadStartFrame {
  t: 'download-start';
  req: string;
  attachment: AttachmentRef;
}
/** Every chunk of download `req` has been sent. */
export interface DownloadDoneFrame {
  t: 'download-done';
  req: string;
}
export type ServerFrame =
  | UploadedFrame
  | DownloadStartFrame
  | DownloadDoneFrame
  | WelcomeFrame
  | AckFrame
  | NackFrame
  | MessageFrame
  | SyncedFrame
  | UnreadFrame
  | PageFrame
  | ErrorFrame
  | PongFrame;

// ---------------------------------------------------------------- admin (HTTP on the same port)

/** Body of `POST /admin/provision`: idempotent; accounts, devices and conversations are upserted. */
export interface ProvisionRequest {
  accounts: { id: string; role: Role; devices: { id: string; token: string }[] }[];
  conversations: { id: string; kind: 'direct' | 'group'; members: string[] }[];
}

// ---------------------------------------------------------------- binary chunks (attachments)

/**
 * Encode one binary WebSocket frame of an attachment transfer:
 * `[1 byte: id length L (1..64)][L bytes: ASCII transfer id][payload]`.
 * The id is the upload's `up` (client -> server) or the download's `req` (server -> client).
 */
export function encodeChunk(id: string, payload: Uint8Array): Buffer {
  const idBytes = Buffer.from(id, 'latin1');
  if (idBytes.length < 1 || idBytes.length > MAX_TRANSFER_ID_BYTES) {
    throw new RangeError(`transfer id must be 1..${MAX_TRANSFER_ID_BYTES} ASCII characters, got ${idBytes.length}`);
  }
  const out = Buffer.allocUnsafe(1 + idBytes.length + payload.length);
  out[0] = idBytes.length;
  idBytes.copy(out, 1);
  out.set(payload, 1 + idBytes.length);
  return out;
}

/** Decode a binary chunk made by {@link encodeChunk}; `undefined` when the header is malformed. */
export function decodeChunk(frame: Buffer): { id: string; payload: Buffer } | undefined {
  const len = frame[0];
  if (len === undefined || len < 1 || len > MAX_TRANSFER_ID_BYTES || frame.length < 1 + len) return undefined;
  return { id: frame.toString('latin1', 1, 1 + len), payload: frame.subarray(1 + len) };
}
