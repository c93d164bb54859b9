/**
 * The driver contract, version 2: the adapter between the runner and one chat back end. The
 * runner never sees frames, the driver never judges. It is shaped by what back ends provide
 * (XMPP archives, Socket.IO apps, Matrix-like sync APIs), not by the reference protocol:
 *
 *   provision(runId, url, population) ──> context ──┐   (ids, tokens, cookies of this run)
 *   preloadHistory?(context, conv, messages) ───────┤   (optional: bulk history before the run)
 *   deviceState(identity) ──> state ────────────────┤   (kept across the device's connections)
 *   catch-up position (opaque, from handlers.position) ─┤   (stored by the runner, handed back as a snapshot)
 *                                                   v
 *   connect({ context, state, position, handlers, ... }) ──> Connection
 *        send(message, attempt) ──> handlers.ack | handlers.refused     (typed outcome)
 *        inbound copies         ──> handlers.message                    (key from the marker or a client id)
 *
 * Identity: every outbound message carries the harness `key` (`<device>#<n>`); a driver must
 * get that key back on every inbound copy, whatever ids its back end assigns (a client id, or the
 * harness marker in the body read with `decodeMarker`). Server ids and positions are the
 * driver's: an ack may carry no id, a recipient's copy may have its own id (`serverIds:
 * 'per-copy'`), and ordering information is given only where the protocol has it. Checks that
 * need what a driver declares it cannot give report `not-checked` with the reason.
 */
import type { MessageKind, Position, Role } from '../domain/index.ts';
import type { PlannedAccount, PlannedConversation } from '../plan/plan.ts';
import type { Target } from '../net/target.ts';

/** The contract version this file describes. */
export const DRIVER_CONTRACT = 2;

export interface DeviceIdentity {
  account: string;
  role: Role;
  device: string;
  token: string;
}

export type { Position };

/** What a back end can carry and tell; scenario validation refuses traffic it cannot carry. */
export interface DriverCapabilities {
  /**
   * Ordering information of messages: `number` (a sequence per conversation, dense: history
   * pages, unread counts and read markers are judged against it), `token` (comparable opaque
   * positions: ordering is judged), `none` (ordering is not checked).
   */
  ordering: 'number' | 'token' | 'none';
  /**
   * Server ids: `global` (one id per stored message, the same in every copy and the ack),
   * `per-copy` (each recipient's copy may have its own id, as XMPP archives do: duplicates are
   * judged per device), `none` (the back end shows no ids: duplicates are not checked).
   */
  serverIds: 'global' | 'per-copy' | 'none';
  /** Message kinds it carries (image and file need `attachments`). */
  kinds: readonly MessageKind[];
  attachments: boolean;
  /** History pages by position (needs `ordering: 'number'`). */
  historyPages: boolean;
  /** Unread counts pushed to devices (sync check). */
  unreadCounts: boolean;
  /** Read markers a device can set. */
  readMarkers: boolean;
  /** Group conversations (more than two members). */
  groups: boolean;
  /** The back end keeps a client message id (the key) and deduplicates resends by it. */
  clientIds: boolean;
  /**
   * The driver avoids resending what the back end already stored (a resumption session, an
   * archive lookup, its own replay of the sender's copies): a duplicate it lets through is still
   * the back end's, but a back end without `clientIds` is only judged fairly with this.
   */
  resumption: boolean;
}

/** Payload limits of the back end (scenario validation refuses sizes beyond them). */
export interface DriverLimits {
  /** Largest message body in UTF-8 bytes, harness marker included. */
  maxBodyBytes: number;
  /** Largest attachment in bytes (0 without attachments). */
  maxAttachmentBytes: number;
  /** Most attachments one message may carry (0 without attachments). */
  maxAttachmentsPerMessage: number;
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
  /** This copy's server id, when the back end shows one. */
  id?: string;
  /** Position in the conversation's order, when the back end has one (see {@link DriverCapabilities.ordering}). */
  position?: Position;
  /** Sending device (from the marker). */
  from: string;
  kind: MessageKind;
  /** Delivered by catch-up after a (re)connect rather than pushed live. */
  replay: boolean;
  /**
   * sha256 of each attachment as downloaded, in message order, when the message has attachments
   * and downloads are on (`ConnectOptions.downloadAttachments`). A driver reports such a message
   * only once its downloads finished, and holds later messages of the same conversation until then.
   */
  sha256?: string[];
  /** Server ids of the message's attachments, when it has any (the runner's isolation probe uses them). */
  attachments?: string[];
}

/** What the server did when a device asked for an attachment ({@link Connection.fetchAttachment}). */
export type FetchOutcome =
  | { state: 'served' }
  | { state: 'refused'; code: string }
  | { state: 'unknown'; reason: string };

/** The back end accepted a message. */
export interface AckReport {
  key: string;
  conv: string;
  /** The stored message's id, when the ack says one. */
  id?: string;
  position?: Position;
}

/** How a back end refused a message: try again after a while, or never. */
export type Refusal = { kind: 'retry'; afterMs: number; code?: string } | { kind: 'final'; code: string };

export interface HistoryRequest {
  conv: string;
  /** Messages before this position (newest first), or the newest page when absent. */
  before?: number;
  after?: number;
  limit: number;
}
export interface HistoryPage {
  messages: { key: string; position: number; id?: string }[];
  hasMore: boolean;
}

/** An unread count the server told a device. */
export interface UnreadReport {
  conv: string;
  count: number;
  /** The account's read position on the server with this count, when the protocol has it. */
  readSeq?: number;
  /** `welcome`: reported at connect time (before the connection is live), not pushed. */
  source?: 'welcome';
}

/** The step of a connection attempt a driver reached (its own words; the reference driver's below). */
export type ConnectStep = string;

/** What a device's connection reports. Called synchronously from socket callbacks. */
export interface DeviceHandlers {
  message(m: InboundMessage): void;
  ack(a: AckReport): void;
  refused(r: { key: string; conv: string; refusal: Refusal }): void;
  /**
   * The account's unread count for `conv`: each push, and (when the protocol says it at connect)
   * every conversation's count at connect time with `source: 'welcome'`.
   */
  unread(u: UnreadReport): void;
  /**
   * The device's catch-up position moved: the runner stores `position` (treated as opaque and
   * never changed) and hands it back to the next `connect` of this device. A driver must give a
   * value it will not mutate later (a snapshot).
   */
  position(position: unknown): void;
  /** The connection attempt reached `step` (recorded on a failed attempt: which step stalled). */
  step?(step: ConnectStep): void;
  /** The connection is gone (not called after `close()` by the runner). */
  closed(reason: string): void;
  /**
   * Optional: upload progress of message `key`, after each chunk is written (lets the runner kill
   * a connection mid-upload). May close the connection synchronously.
   */
  uploadProgress?(key: string, sentBytes: number, totalBytes: number): void;
}

export interface ConnectOptions<Context = unknown, State = unknown> {
  /** The server as seen through this device's network, e.g. `ws://127.0.0.1:PORT`. */
  url: string;
  /**
   * The target as this device's network sees it: `url` through the proxy with the target's
   * scheme, path and query, the `Host` and TLS settings (SNI, CA, verification) of the real server,
   * and its HTTP(S) API. Spread `clientOptions(target)` into the WebSocket's options.
   */
  target?: Target;
  identity: DeviceIdentity;
  /** What `provision` returned for this run. */
  context: Context;
  /** This device's own state from `deviceState`, the same object on every connection. */
  state: State;
  /** The last position the driver reported for this device (undefined before any). */
  position: unknown;
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
   * Write a message (after uploading its attachments); `attempt` is 1 for the first write, more
   * for resends of the same key (after a reconnect or a `retry` refusal). Never throws for a dead
   * connection: `closed` reports that.
   */
  send(m: OutboundMessage, attempt: number): void;
  /**
   * Mark `conv` read up to what this device has been shown; returns the position marked, or
   * undefined when there was nothing to mark.
   */
  markRead(conv: string): Position | undefined;
  /** One history page (only with `capabilities.historyPages`). */
  history?(req: HistoryRequest): Promise<HistoryPage>;
  /** Conversations this device has been shown messages of (for history loads after a reconnect). */
  conversationsSeen?(): readonly string[];
  /**
   * Optional: ask the server for attachment `id` as this device (whatever its membership) and
   * say whether it served it. The runner's isolation probe asks for attachments of conversations
   * the device is not in; a driver without it is not probed. Never rejects.
   */
  fetchAttachment?(id: string): Promise<FetchOutcome>;
  /** Graceful close. */
  close(): void;
  /** Abrupt close without a closing handshake (a dropped phone). */
  kill(): void;
}

/** What `provision` gets: the run and its population. */
export interface ProvisionRequest {
  /** This run's id: namespace accounts with it on a shared server. */
  runId: string;
  /** The server's direct address (not through a proxy). */
  url: string;
  accounts: readonly PlannedAccount[];
  conversations: readonly PlannedConversation[];
  /**
   * The server as the user named it (`--target`): `url` with the target's `Host`, TLS settings
   * and HTTP(S) API base (`target.http`), for REST calls; absent for the built-in server.
   */
  target?: Target;
}

/**
 * What `preloadHistory` gets: one conversation's history to create before any device connects
 * (months of messages already there when the run starts).
 */
export interface PreloadHistoryRequest<Context = unknown> {
  /** What `provision` returned for this run. */
  context: Context;
  runId: string;
  /** The server's direct address (as in {@link ProvisionRequest.url}). */
  url: string;
  /** The server as the user named it (as in {@link ProvisionRequest.target}). */
  target?: Target;
  /** A conversation of the plan, provisioned already. */
  conv: string;
  /** Messages to append, oldest first, after whatever the conversation holds. */
  messages: number;
  /**
   * The n-th preloaded message (n = 1, 2, ...) must come back in history pages with key
   * `<keyDevice>#<n>` (`messageKey(keyDevice, n)`), as a client id or a harness marker: the
   * history check judges the content of each seq of the range by it.
   */
  keyDevice: string;
  /** Body length of each message, bytes. */
  bodyBytes: number;
  /** Timestamps spread over this many days, ending now. */
  spanDays: number;
}

/**
 * Where the preloaded messages are: the positions of the oldest and the newest, dense
 * (`last - first + 1` is the number of messages, the n-th at `first + n - 1`).
 */
export interface PreloadedHistory {
  first: number;
  last: number;
}

export interface Driver<Context = unknown, State = unknown> {
  /** Always 2 for this contract. */
  readonly contract: typeof DRIVER_CONTRACT;
  readonly name: string;
  readonly capabilities: DriverCapabilities;
  readonly limits: DriverLimits;
  /** Create accounts, devices and conversations before traffic starts; the context goes to every `connect`. */
  provision(p: ProvisionRequest): Promise<Context>;
  /** A device's state, created once and handed to each of its connections (default: undefined). */
  deviceState?(identity: DeviceIdentity): State;
  /**
   * Optional capability: create a conversation's history in bulk before the run (a scenario's
   * `traffic.history.preload`). Needs `historyPages` (the range is judged by paging through it).
   * A scenario that preloads is refused before anything starts (exit 2) for a driver without it.
   */
  preloadHistory?(p: PreloadHistoryRequest<Context>): Promise<PreloadedHistory>;
  /** Connect a device and bring it live (resolves after catch-up), or reject. */
  connect(opts: ConnectOptions<Context, State>): Promise<Connection>;
}

/** Identity helper that types a driver object (`export default defineDriver({...})`). */
export function defineDriver<Context, State>(driver: Driver<Context, State>): Driver<Context, State> {
  return driver;
}
