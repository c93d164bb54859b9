/**
 * The history: an append-only stream of everything the harness observed, on one monotonic clock.
 * Runner and drivers produce these events; checkers fold over them and never touch sockets.
 *
 * Times: `atMs` is milliseconds (fractional) since the run's origin, taken from
 * `performance.now()`; it is the time the harness observed the event. `intendedMs` on a send is
 * the time the plan scheduled it for (coordinated-omission-free delay is measured from there).
 *
 * Identity: `key` is the harness marker of a message, `<senderDevice>#<counter>`, the same on the
 * sending and every receiving side whatever ids the server assigns. `id` is the server's id.
 */
import type { MessageKind, Role } from '../domain/index.ts';

/**
 * What the run's driver declared (contract v2), as the checks need it: which of them can be
 * judged. Absent in histories written before contract v2: the reference driver's.
 */
export interface DriverDeclaration {
  name: string;
  ordering: 'number' | 'token' | 'none';
  serverIds: 'global' | 'per-copy' | 'none';
  unreadCounts: boolean;
  historyPages: boolean;
  clientIds: boolean;
  resumption: boolean;
}

/** History file format version (first line of a history file is the run-start event). */
export const HISTORY_SCHEMA = 1;

interface At {
  /** Milliseconds since the run origin (monotonic clock). */
  atMs: number;
}

/** First event of every history. */
export interface RunStartEvent extends At {
  type: 'run-start';
  schema: number;
  runId: string;
  scenario: string;
  seed: number;
  /** Wall-clock time of the origin, ISO 8601. */
  startedAt: string;
  /** When the plan's last send is scheduled (ms since origin). */
  sendWindowMs: number;
  /** How long after the send window deliveries may still arrive before loss is judged. */
  graceMs: number;
  /** The driver's declaration (absent before contract v2: the reference driver). */
  driver?: DriverDeclaration;
}
/** An account and its devices; emitted before any traffic. */
export interface AccountEvent extends At {
  type: 'account';
  account: string;
  role: Role;
  devices: string[];
  /** Network profile (Toxiproxy proxy name) the account's devices connect through. */
  network: string;
}
/** A conversation and its members from this time on (re-emitted when membership changes). */
export interface ConvEvent extends At {
  type: 'conv';
  conv: string;
  kind: 'direct' | 'group';
  members: string[];
}
/**
 * A conversation's history was preloaded at set-up, before any device connected: `count`
 * messages at seqs `first`..`last` (dense), the n-th with key `<keyDevice>#<n>`. Emitted after
 * the population (`account`, `conv`); `tookMs` is how long the driver took to create them.
 */
export interface PreloadEvent extends At {
  type: 'preload';
  conv: string;
  count: number;
  first: number;
  last: number;
  keyDevice: string;
  /** The run pages through the whole range (the history check then expects every seq shown). */
  swept: boolean;
  tookMs: number;
}
/** A device starts a connection attempt. */
export interface ConnectEvent extends At {
  type: 'connect';
  device: string;
  attempt: number;
}
/**
 * A connection attempt failed: the last step it reached (the one that stalled or failed) and why.
 * Steps are the driver's words; the reference driver's are `tcp` (connecting), `upgrade` (TCP
 * up, HTTP upgrade sent), `welcome` (upgraded, awaiting the greeting), `sync` (catching up).
 */
export interface ConnectFailedEvent extends At {
  type: 'connect-failed';
  device: string;
  attempt: number;
  /** Last step reached, `start` when the driver reported none. */
  step: string;
  reason: string;
  /** From the attempt's start to its failure. */
  tookMs: number;
}
/** A device is connected and live (authenticated and synced). */
export interface ConnectedEvent extends At {
  type: 'connected';
  device: string;
  /** From the first attempt after the last disconnect to live. */
  tookMs: number;
}
/** A device lost (or closed) its connection. */
export interface DisconnectEvent extends At {
  type: 'disconnect';
  device: string;
  reason: string;
  /** True when the harness closed it on purpose (end of run, kill fault). */
  intentional: boolean;
}
/** A message frame was written to the socket (`attempt` > 1 for resends of the same key). */
export interface SendEvent extends At {
  type: 'send';
  device: string;
  account: string;
  conv: string;
  key: string;
  kind: MessageKind;
  /** Payload bytes: the body (marker included) plus every attachment. */
  bytes: number;
  intendedMs: number;
  attempt: number;
  /** sha256 (lower-case hex) of each attachment as sent, in order, when the message has any (integrity check). */
  sha256?: string[];
  /** Attachment sizes in bytes, in the same order, when the message has any. */
  attachmentBytes?: number[];
}
/** The server acknowledged a send. */
export interface AckEvent extends At {
  type: 'ack';
  device: string;
  conv: string;
  key: string;
  /** The stored message's id, when the ack carries one. */
  id?: string;
  /** Its position in the conversation, when the driver gives numbers. */
  seq?: number;
  /** Its position as an opaque comparable token, when the driver gives tokens. */
  pos?: string;
}
/** The server rejected a send. `final` false means the harness will retry (e.g. rate limit). */
export interface NackEvent extends At {
  type: 'nack';
  device: string;
  conv: string;
  key: string;
  code: string;
  final: boolean;
}
/** A message was shown on a device (live or by sync replay). */
export interface DeliverEvent extends At {
  type: 'deliver';
  device: string;
  account: string;
  conv: string;
  key: string;
  /** This copy's server id, when the back end shows one. */
  id?: string;
  /** Position in the conversation, when the driver gives numbers. */
  seq?: number;
  /** Position as an opaque comparable token, when the driver gives tokens. */
  pos?: string;
  /** Sending device according to the marker. */
  from: string;
  replay: boolean;
  /** sha256 of attachments as received, when the message had any (integrity check). */
  sha256?: string[];
  /** Server ids of the message's attachments, when it had any and the driver reports them. */
  attachments?: string[];
}
/**
 * An attachment probe: a device asked the server for attachment `attachment` of message `key`
 * of conversation `conv` (its account is not a member: the runner's isolation probe), and what
 * the server did. `served`: it started sending the bytes; `refused`: it answered with an error
 * (`code`); `unknown`: no answer (connection lost, timeout).
 */
export interface FetchEvent extends At {
  type: 'fetch';
  device: string;
  account: string;
  conv: string;
  key: string;
  attachment: string;
  outcome: 'served' | 'refused' | 'unknown';
  /** The server's error code (`refused`) or why there was no answer (`unknown`). */
  code?: string;
}
/** The server told a device its account's unread count for a conversation. */
export interface UnreadEvent extends At {
  type: 'unread';
  device: string;
  account: string;
  conv: string;
  count: number;
  /** The account's read seq on the server with this count, when the protocol reports it. */
  readSeq?: number;
  /**
   * `welcome`: the count came with the connection's greeting (every conversation of the account,
   * on each connect and reconnect). Absent: a push (after new messages or a read).
   */
  source?: 'welcome';
}
/** A device marked a conversation read up to `seq` (or the token `pos`). */
export interface ReadEvent extends At {
  type: 'read';
  device: string;
  account: string;
  conv: string;
  seq?: number;
  pos?: string;
}
/** A history page was loaded. */
export interface PageEvent extends At {
  type: 'page';
  device: string;
  conv: string;
  before?: number;
  after?: number;
  limit: number;
  seqs: number[];
  keys: string[];
  hasMore: boolean;
  tookMs: number;
}
/** A fault of the timeline started or ended. */
export interface FaultEvent extends At {
  type: 'fault';
  phase: 'start' | 'end';
  /**
   * Stable id of the timeline entry (index-based, `f<i>`), pairs start and end. A message-aware
   * kill that fires for several sends uses `f<i>.<n>` for its n-th kill.
   */
  fault: string;
  network: string;
  action: string;
  description: string;
  /** Devices the fault acted on (connection kills), when it targets devices rather than a whole network. */
  devices?: string[];
  /** The send that triggered the fault (`kill-after-send`, `kill-during-upload`). */
  key?: string;
}
/** A running fault changed (a ramp step: one attribute of a toxic updated). */
export interface FaultUpdateEvent extends At {
  type: 'fault-update';
  fault: string;
  network: string;
  description: string;
}
/** Periodic self-measurement of the harness. */
export interface LagEvent extends At {
  type: 'lag';
  eventLoopP99Ms: number;
  senderLagP99Ms: number;
}
/**
 * A sweep's walk through a preloaded range was still going when the drain's grace ended (the
 * server had not said it was done): the seqs it had not reached yet were not judged, not missing.
 */
export interface SweepCutEvent extends At {
  type: 'sweep-cut';
  device: string;
  conv: string;
  /** Pages the walk had loaded (of `pages` planned). */
  loaded: number;
  pages: number;
}
/** Last event of a complete history. */
export interface RunEndEvent extends At {
  type: 'run-end';
  /** `complete`, or why the run ended early (harness overload, interrupted, error). */
  reason: string;
}

export type HistoryEvent =
  | RunStartEvent
  | AccountEvent
  | ConvEvent
  | PreloadEvent
  | ConnectEvent
  | ConnectFailedEvent
  | ConnectedEvent
  | DisconnectEvent
  | SendEvent
  | AckEvent
  | NackEvent
  | DeliverEvent
  | FetchEvent
  | UnreadEvent
  | ReadEvent
  | PageEvent
  | FaultEvent
  | FaultUpdateEvent
  | LagEvent
  | SweepCutEvent
  | RunEndEvent;

export type HistoryEventType = HistoryEvent['type'];
