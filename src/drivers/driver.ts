/**
 * The driver interface: the adapter between the runner and one chat protocol. The runner never
 * sees frames, the driver never judges. A driver reports what its device observed through
 * `DeviceHandlers`; the runner timestamps and records it.
 *
 * Identity: every outbound message carries the harness `key` (`<device>#<n>`); a driver must get
 * that key back on every inbound copy of the message, whatever ids its back end assigns (the
 * reference driver uses the protocol's client id; a driver for a back end without client ids
 * embeds the key in the message body with `encodeMarker`).
 */
import type { MessageKind, Role } from '../domain/index.ts';
import type { PlannedAccount, PlannedConversation } from '../plan/plan.ts';

export interface DeviceIdentity {
  account: string;
  role: Role;
  device: string;
  token: string;
}

/** An attachment to upload with a message. `bytes` is a view the driver must not modify. */
export interface OutboundAttachment {
  name: string;
  mime: string;
  bytes: Uint8Array;
  /** Lower-case hex sha256 of `bytes`, computed by the runner (it is also recorded on the send event). */
  sha256: string;
}

export interface OutboundMessage {
  key: string;
  conv: string;
  kind: MessageKind;
  body: string;
  /**
   * Attachments, uploaded by the driver before the message itself. A driver must keep the
   * device's send order: a later message may not overtake one still uploading.
   */
  attachments?: readonly OutboundAttachment[];
}

export interface InboundMessage {
  key: string;
  conv: string;
  /** Server id. */
  id: string;
  seq: number;
  /** Sending device (from the marker). */
  from: string;
  kind: MessageKind;
  replay: boolean;
  /**
   * sha256 of each attachment as downloaded, in message order, when the message has attachments
   * and downloads are on (`ConnectOptions.downloadAttachments`). A driver reports such a message
   * only once its downloads finished, and holds later messages of the same conversation until then.
   */
  sha256?: string[];
}

export interface HistoryRequest {
  conv: string;
  before?: number;
  after?: number;
  limit: number;
}
export interface HistoryPage {
  messages: { key: string; seq: number; id: string }[];
  hasMore: boolean;
}

/** An unread count the server told a device. */
export interface UnreadReport {
  conv: string;
  count: number;
  /** The account's read seq on the server with this count, when the protocol has it. */
  readSeq?: number;
  /** `welcome`: reported at connect time (before the connection is live), not pushed. */
  source?: 'welcome';
}

/** What a device's connection reports. Called synchronously from socket callbacks. */
export interface DeviceHandlers {
  message(m: InboundMessage): void;
  ack(a: { key: string; conv: string; id: string; seq: number }): void;
  nack(n: { key: string; conv: string; code: string; retryAfterMs?: number }): void;
  /**
   * The account's unread count for `conv`: each push, and (when the protocol says it at connect)
   * every conversation's count at connect time with `source: 'welcome'`, so a reconnected device's
   * badge is known before the next push.
   */
  unread(u: UnreadReport): void;
  /**
   * Optional, for drivers that hold inbound messages back (see `InboundMessage.sha256`): message
   * `seq` of `conv` arrived but is held until `message` hands it over. The device keeps its sync
   * cursor for `conv` below every held message, so a reconnect replays a message the device was
   * never handed instead of syncing past it. A driver that holds messages must call this.
   */
  holding?(conv: string, seq: number): void;
  /** The connection is gone (not called after `close()` by the runner). */
  closed(reason: string): void;
  /**
   * Optional: upload progress of message `key`, after each chunk is written (lets the runner kill
   * a connection mid-upload). May close the connection synchronously.
   */
  uploadProgress?(key: string, sentBytes: number, totalBytes: number): void;
}

export interface ConnectOptions {
  /** Base URL of the server as seen through this device's network, e.g. `ws://127.0.0.1:PORT`. */
  url: string;
  identity: DeviceIdentity;
  /**
   * Per conversation, the sequence to sync from before resolving: the device has been handed
   * everything up to it (its own messages count as seen once acknowledged).
   */
  cursors: ReadonlyMap<string, number>;
  handlers: DeviceHandlers;
  /** Give up connecting after this long. */
  timeoutMs: number;
  /** Download the attachments of inbound messages and report their sha256 (default true). */
  downloadAttachments?: boolean;
  /** Aborted when the device is stopped while connecting: give up now (reject), do not wait for `timeoutMs`. */
  signal?: AbortSignal;
}

/** One live device connection. */
export interface Connection {
  /**
   * Write a message (after uploading its attachments). Never throws for a dead connection:
   * `closed` reports that.
   */
  send(m: OutboundMessage): void;
  markRead(conv: string, seq: number): void;
  history(req: HistoryRequest): Promise<HistoryPage>;
  /** Last sequence per conversation as reported by the server at connect time. */
  readonly serverCursors: ReadonlyMap<string, number>;
  /** Graceful close. */
  close(): void;
  /** Abrupt close without a closing handshake (a dropped phone). */
  kill(): void;
}

export interface Driver {
  readonly name: string;
  /**
   * Create accounts, devices and conversations on the back end before traffic starts. `url` is
   * the server's direct address (not through a proxy).
   */
  provision(url: string, accounts: readonly PlannedAccount[], conversations: readonly PlannedConversation[]): Promise<void>;
  /** Connect a device and bring it live (resolves after sync), or reject. */
  connect(opts: ConnectOptions): Promise<Connection>;
}
