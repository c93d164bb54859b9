/**
 * The storage interface of the reference server. Two implementations: `MemoryStore` and
 * `SqliteStore`. Every call is synchronous (better-sqlite3 is), so the server's send path
 * (dedup check -> append -> ack -> fan-out) runs in one tick and needs no locking.
 *
 * Sequence numbers are per conversation, contiguous, starting at 1. Message ids are global.
 *
 * Writes are group-committed: `append` assigns a seq and stages the message, `flush` (once per
 * event-loop turn) makes every staged message durable and visible in one transaction. Until
 * then only `findByCid` sees it; `lastSeq`, `after`, `page` and `unread` show committed
 * messages only, so what a device is told (ack, fan-out, synced.lastSeq) is always durable.
 */
import type { AttachmentRef, MessageKind, ProvisionRequest, Role } from '../protocol/frames.ts';
import type { PreloadRequest } from './admin-schema.ts';

/** A device as provisioned. */
export interface DeviceRecord {
  id: string;
  account: string;
  token: string;
}

/** A conversation as provisioned, with its last committed sequence number. */
export interface ConversationRecord {
  id: string;
  kind: 'direct' | 'group';
  members: readonly string[];
  lastSeq: number;
}

/** A stored message. */
export interface StoredMessage {
  id: string;
  conv: string;
  seq: number;
  fromAccount: string;
  fromDevice: string;
  cid: string;
  kind: MessageKind;
  body: string;
  ts: number;
  attachments: AttachmentRef[] | undefined;
}

/** What the server appends; the store assigns `id`, `seq` and `ts`. */
export type NewMessage = Omit<StoredMessage, 'id' | 'seq' | 'ts'>;

/** A page of history, ascending by seq. */
export interface HistoryPage {
  messages: StoredMessage[];
  hasMore: boolean;
}

/** Bounds of a history request (see docs/protocol.md, `history`). */
export interface HistoryQuery {
  before?: number | undefined;
  after?: number | undefined;
  limit: number;
}

/** A stored attachment. */
export interface StoredAttachment {
  ref: AttachmentRef;
  bytes: Buffer;
  /** Account that uploaded it: it may always download it, and send it in its conversations. */
  owner: string;
}

/** Outcome of a bulk preload. */
export interface PreloadResult {
  conv: string;
  count: number;
  firstSeq: number;
  lastSeq: number;
  elapsedMs: number;
}

/** Storage of accounts, devices, conversations, messages, read cursors and attachments. */
export interface Store {
  /** Upsert accounts, devices and conversations in one step; throws `ProvisionConflictError`. */
  provision(req: ProvisionRequest): void;
  device(id: string): DeviceRecord | undefined;
  accountRole(account: string): Role | undefined;
  /** Every account id (for the `leak` defect's choice of a stranger). */
  accounts(): Iterable<string>;
  conversation(id: string): ConversationRecord | undefined;
  conversationsOf(account: string): ConversationRecord[];
  /** The first message stored for this (device, cid), if any. */
  findByCid(device: string, cid: string): StoredMessage | undefined;
  /** Assign the conversation's next seq and stage the message (durable after {@link flush}). */
  append(msg: NewMessage): StoredMessage;
  /**
   * Commit every staged message in one transaction. If that fails it throws and the staged
   * messages are discarded (their seqs are reused), so none of them may be acked.
   */
  flush(): void;
  /** Messages with seq > afterSeq, ascending, at most `limit`. */
  after(conv: string, afterSeq: number, limit: number): StoredMessage[];
  page(conv: string, q: HistoryQuery): HistoryPage;
  readSeq(conv: string, account: string): number;
  /** Move the read cursor forward (never back, never past lastSeq); returns the cursor now stored. */
  advanceRead(conv: string, account: string, seq: number): number;
  /** Messages with seq > readSeq not sent by `account`. */
  unread(conv: string, account: string): number;
  putAttachment(att: StoredAttachment): void;
  attachment(id: string): StoredAttachment | undefined;
  /**
   * Conversations in which a committed message carries attachment `id`. With the owner, their
   * members are the accounts that may download it (see docs/protocol.md, `download`).
   */
  attachmentConversations(id: string): string[];
  preload(req: PreloadRequest): PreloadResult;
  close(): void;
}
