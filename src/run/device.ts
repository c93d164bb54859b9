/**
 * A virtual device: one account's phone, desktop or browser tab. It keeps a connection through
 * its network, an outbox of unacknowledged messages (resent with the same key after a
 * reconnect, each write numbered as its attempt), the driver's state for this device (the same
 * object on every connection) and the last catch-up position the driver reported (opaque,
 * handed back to the next connect).
 *
 *   offline --connect--> connecting --live--> live --closed--> offline (backoff) --> connecting
 *                                               |
 *                                          stop() --> stopped
 */
import type { AckReport, Connection, Driver, DeviceIdentity, InboundMessage, OutboundAttachment, Refusal, UnreadReport } from '../drivers/driver.ts';
import type { Target } from '../net/target.ts';
import type { Recorder } from '../history/recorder.ts';
import type { AckEvent, DeliverEvent, FetchEvent, SendEvent, UnreadEvent } from '../history/events.ts';
import type { MessageKind } from '../domain/index.ts';
import { backoffMs } from './backoff.ts';

export interface PendingMessage {
  key: string;
  conv: string;
  kind: MessageKind;
  body: string;
  bytes: number;
  intendedMs: number;
  attempts: number;
  attachments?: readonly OutboundAttachment[];
}

/**
 * Hooks the runner shares between all its devices (one object, not one closure per device: a
 * device must stay small). Fault injection uses them to act at a message's exact moment.
 */
export interface DeviceHooks {
  /** A message frame was just written (after the send event was recorded). */
  afterWrite?(device: VirtualDevice, p: PendingMessage): void;
  /** A chunk of an attachment upload of `key` was written. */
  uploadProgress?(device: VirtualDevice, key: string, sentBytes: number, totalBytes: number): void;
  /** The device is live (after connecting or reconnecting). */
  onLive?(device: VirtualDevice): void;
}

export interface DeviceOptions {
  identity: DeviceIdentity;
  url: string;
  /** The target through this device's network (see `ConnectOptions.target`). */
  target?: Target;
  driver: Driver;
  /** What the driver's `provision` returned for this run. */
  context?: unknown;
  recorder: Recorder;
  random: () => number;
  connectTimeoutMs: number;
  hooks?: DeviceHooks;
  /**
   * Download inbound attachments and record their sha256 (default true). When false, sends do not
   * record sha256 either, so the integrity check says "not checked" instead of failing.
   */
  downloadAttachments?: boolean;
  /** Reconnect backoff ceiling, ms (default 5000). */
  backoffMaxMs?: number;
  /** How this device loads history pages (absent: `loadHistory` does nothing). */
  history?: DeviceHistoryOptions;
}

/** History loading of one device. */
export interface DeviceHistoryOptions {
  /** Messages per page. */
  pageSize: number;
  /** Pages per load, newest first, each `before` the oldest seq of the previous one. */
  pages: number;
  /** After a reconnect, load every conversation the device has messages in, one after another. */
  onReconnect: boolean;
}

/** An ascending walk (the sweep of a preloaded range): `pages` pages of `pageSize`, the first `after` that seq. */
export interface HistoryWalk {
  after: number;
  pages: number;
  pageSize: number;
  /** Pages loaded so far (the device counts them here: the runner reports a walk the end cut). */
  loaded?: number;
}

export type DeviceState = 'offline' | 'connecting' | 'live' | 'stopped';

// The hot events are built with `atMs: 0` for the recorder to stamp: a field an object literal
// lacks is added out of line (one more allocation per event, and a slower shape to read).

export class VirtualDevice {
  readonly id: string;
  readonly account: string;
  state: DeviceState = 'offline';
  /** Unacknowledged messages by key, in send order. */
  readonly outbox = new Map<string, PendingMessage>();
  /** The driver's state for this device (`driver.deviceState`), kept across connections. */
  readonly driverState: unknown;
  /** The catch-up position the driver last reported (opaque; handed back on connect). */
  position: unknown = undefined;
  private conn: Connection | null = null;
  private attempt = 0;
  private downSince: number | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  /** Ends the backoff wait early (stop()). */
  private wakeRetry: (() => void) | null = null;
  /** Aborts the connection attempt in flight (stop()). */
  private attemptAbort: AbortController | null = null;
  private wasLive = false;
  /** The step the current connection attempt reached (driver's words), for `connect-failed`. */
  private attemptStep = 'start';
  /** History loads under way (the runner's drain waits for them). */
  historyLoads = 0;
  /** Attachment probes under way (the runner's drain waits for them). */
  fetches = 0;
  /** Walks waiting out a reconnect: woken when the device is live again, or stopped. */
  private liveWaiters: (() => void)[] = [];

  constructor(private readonly o: DeviceOptions) {
    this.id = o.identity.device;
    this.account = o.identity.account;
    this.driverState = o.driver.deviceState?.(o.identity);
  }

  /** Connect until live; resolves true when live, false when stopped first. */
  async connect(): Promise<boolean> {
    const { recorder, driver } = this.o;
    if (this.downSince === null) this.downSince = recorder.now();
    while (this.state !== 'stopped') {
      this.attempt++;
      this.state = 'connecting';
      recorder.emit({ type: 'connect', device: this.id, attempt: this.attempt });
      const startedMs = recorder.now();
      this.attemptStep = 'start';
      const attempt = new AbortController();
      this.attemptAbort = attempt;
      try {
        const conn = await driver.connect({
          url: this.o.url,
          ...(this.o.target ? { target: this.o.target } : {}),
          identity: this.o.identity,
          context: this.o.context,
          state: this.driverState,
          position: this.position,
          timeoutMs: this.o.connectTimeoutMs,
          handlers: this.handlers,
          downloadAttachments: this.o.downloadAttachments ?? true,
          signal: attempt.signal,
        });
        this.attemptAbort = null;
        if (this.stopped) {
          conn.close();
          return false;
        }
        this.conn = conn;
        this.state = 'live';
        recorder.emit({ type: 'connected', device: this.id, tookMs: recorder.now() - (this.downSince ?? recorder.now()) });
        this.downSince = null;
        this.attempt = 0;
        this.o.hooks?.onLive?.(this);
        this.wakeLiveWaiters();
        this.flushOutbox();
        if (this.wasLive && this.o.history?.onReconnect) void this.loadAfterReconnect(conn);
        this.wasLive = true;
        return true;
      } catch (err) {
        this.attemptAbort = null;
        if (this.stopped) return false;
        recorder.emit({
          type: 'connect-failed',
          device: this.id,
          attempt: this.attempt,
          step: this.attemptStep,
          reason: err instanceof Error ? err.message : String(err),
          tookMs: Math.round((recorder.now() - startedMs) * 1000) / 1000,
        });
        this.state = 'offline';
        const wait = backoffMs(this.attempt, this.o.random(), { maxMs: this.o.backoffMaxMs });
        await new Promise<void>((r) => {
          this.retryTimer = setTimeout(r, wait);
          this.wakeRetry = r;
        });
        this.retryTimer = null;
        this.wakeRetry = null;
      }
    }
    return false;
  }

  /** Queue a planned message; written now when live, else after the next reconnect. */
  send(m: Omit<PendingMessage, 'attempts'> & { attempts?: number }): void {
    // The device takes the object over (no copy on the send path).
    const p = m as PendingMessage;
    p.attempts = 0;
    this.outbox.set(p.key, p);
    if (this.state === 'live') this.write(p);
  }

  /** Mark a conversation read up to what this device was shown; false if nothing to read. */
  markRead(conv: string): boolean {
    if (this.state !== 'live' || !this.conn) return false;
    const marked = this.conn.markRead(conv);
    if (marked === undefined) return false;
    this.o.recorder.emit(
      typeof marked === 'number'
        ? { type: 'read', device: this.id, account: this.account, conv, seq: marked }
        : { type: 'read', device: this.id, account: this.account, conv, pos: marked },
    );
    return true;
  }

  /**
   * Load history of `conv` as the app does when it is opened: the newest page, then older pages
   * (`before` the oldest seq seen) until `pages` pages or the server has no more. With `walk`, an
   * ascending walk instead (each page `after` the newest seq seen), also on a device that loads
   * no history of its own. Each page is a `page` event timed from request to answer. A load stops
   * silently when the connection changes or the request fails (the device is then reconnecting;
   * nothing was shown); a walk instead waits for the device to be live (also before its first
   * page) and asks again from where it was, and stops only when a page is refused or the device
   * is stopped. Resolves with the pages loaded; 0 when not live.
   */
  async loadHistory(conv: string, walk?: HistoryWalk): Promise<number> {
    const h = walk ?? this.o.history;
    if (!h) return 0;
    this.historyLoads++;
    let loaded = 0;
    try {
      // A walk waits for its device to be live; an app's load happens only when it is.
      if (walk) await this.whenLive();
      let conn = this.conn;
      if (this.state !== 'live' || !conn?.history) return 0;
      const { recorder } = this.o;
      let before: number | undefined;
      let after = walk?.after;
      while (loaded < h.pages) {
        if (this.conn !== conn) {
          // The connection changed: an app's load is over (the device reloads after a reconnect
          // itself); a walk carries on from where it was once the device is live again.
          if (!walk) break;
          await this.whenLive();
          if (this.stopped || !this.conn?.history) break;
          conn = this.conn;
        }
        const t0 = recorder.now();
        let page;
        // The page's place: after a seq (a walk), before one (scrolling back), or the newest.
        const cursor = after !== undefined ? { after } : before !== undefined ? { before } : {};
        try {
          page = await conn.history!({ conv, ...cursor, limit: h.pageSize });
        } catch {
          // Lost with its connection (a walk asks again on the next one), or refused: stop.
          if (walk && this.conn !== conn) continue;
          return loaded;
        }
        const tookMs = Math.round((recorder.now() - t0) * 1000) / 1000;
        const n = page.messages.length;
        const seqs = new Array<number>(n);
        const keys = new Array<string>(n);
        let oldest = Infinity;
        let newest = -Infinity;
        for (let i = 0; i < n; i++) {
          const m = page.messages[i]!;
          seqs[i] = m.position;
          keys[i] = m.key;
          if (m.position < oldest) oldest = m.position;
          if (m.position > newest) newest = m.position;
        }
        recorder.emit({ type: 'page', device: this.id, conv, ...cursor, limit: h.pageSize, seqs, keys, hasMore: page.hasMore, tookMs });
        loaded++;
        if (walk) walk.loaded = loaded;
        if (!page.hasMore || n === 0) break;
        if (after !== undefined) after = newest;
        else before = oldest;
      }
      return loaded;
    } finally {
      this.historyLoads--;
    }
  }

  /**
   * The isolation probe: ask the server, as this device, for attachment `attachment` of message
   * `key` of `conv`, and record a `fetch` event with what it did. False (nothing recorded) when
   * the device is not live or its driver cannot fetch attachments.
   */
  fetchAttachment(conv: string, key: string, attachment: string): boolean {
    const conn = this.conn;
    if (this.state !== 'live' || !conn?.fetchAttachment) return false;
    this.fetches++;
    void conn.fetchAttachment(attachment).then((o) => {
      this.fetches--;
      // After the end of the run the history is closed.
      if (this.stopped) return;
      const e: FetchEvent = { type: 'fetch', atMs: 0, device: this.id, account: this.account, conv, key, attachment, outcome: o.state };
      if (o.state === 'refused') e.code = o.code;
      else if (o.state === 'unknown') e.code = o.reason;
      this.o.recorder.emit(e);
    });
    return true;
  }

  /** Resolves once the device is live (now or after its reconnect) or stopped. */
  private whenLive(): Promise<void> {
    if (this.state === 'live' || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.liveWaiters.push(resolve));
  }

  private wakeLiveWaiters(): void {
    const waiters = this.liveWaiters;
    this.liveWaiters = [];
    for (const wake of waiters) wake();
  }

  /** After a reconnect: catch up on the history of every conversation with messages, one at a time. */
  private async loadAfterReconnect(conn: Connection): Promise<void> {
    for (const conv of conn.conversationsSeen?.() ?? []) {
      if (this.conn !== conn) return;
      await this.loadHistory(conv);
    }
  }

  /** State is changed by socket callbacks while `connect()` awaits, hence a getter. */
  private get stopped(): boolean {
    return this.state === 'stopped';
  }

  get connection(): Connection | null {
    return this.conn;
  }

  /**
   * Drop the connection abruptly (fault injection); the device reconnects by itself. Returns
   * false when there was no live connection to kill.
   */
  kill(reason = 'killed by fault'): boolean {
    if (this.state !== 'live' || !this.conn) return false;
    const c = this.conn;
    this.lost(reason, true);
    c.kill();
    return true;
  }

  /** Close for good (end of run). */
  stop(): void {
    const wasLive = this.state === 'live';
    this.state = 'stopped';
    this.wakeLiveWaiters();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    // A connect() in its backoff wait or mid-attempt returns false now, not after a timeout.
    this.wakeRetry?.();
    this.attemptAbort?.abort();
    if (this.conn) {
      this.conn.close();
      this.conn = null;
    }
    if (wasLive) this.o.recorder.emit({ type: 'disconnect', device: this.id, reason: 'end of run', intentional: true });
  }

  private write(p: PendingMessage): void {
    if (!this.conn) return;
    p.attempts++;
    // Recorded before the write: a driver may report the ack, or the connection's death,
    // synchronously from inside send().
    const att = p.attachments;
    let bytes = Buffer.byteLength(p.body);
    if (att) for (const a of att) bytes += a.bytes.length;
    const e: SendEvent = {
      type: 'send',
      atMs: 0,
      device: this.id,
      account: this.account,
      conv: p.conv,
      key: p.key,
      kind: p.kind,
      bytes,
      intendedMs: p.intendedMs,
      attempt: p.attempts,
    };
    if (att && att.length > 0) {
      e.attachmentBytes = att.map((a) => a.bytes.length);
      // Hashes only when recipients download and hash too: otherwise integrity is "not checked", not failed.
      if (this.o.downloadAttachments !== false) e.sha256 = att.map((a) => a.sha256);
    }
    this.o.recorder.emit(e);
    // A PendingMessage is an OutboundMessage (key, conv, kind, body, attachments?): no copy.
    this.conn.send(p, p.attempts);
    this.o.hooks?.afterWrite?.(this, p);
  }

  /** After (re)connecting: resend everything unacknowledged, oldest first, same keys. */
  private flushOutbox(): void {
    for (const p of this.outbox.values()) {
      if (this.state !== 'live') return;
      this.write(p);
    }
  }

  private lost(reason: string, intentional: boolean): void {
    if (this.state !== 'live') return;
    this.conn = null;
    this.state = 'offline';
    this.o.recorder.emit({ type: 'disconnect', device: this.id, reason, intentional });
    this.downSince = this.o.recorder.now();
    void this.connect();
  }

  private readonly handlers = {
    message: (m: InboundMessage) => {
      // Absent parts as undefined fields (not added later): one object shape per event kind; a
      // history line leaves them out.
      const pos = m.position;
      const e: DeliverEvent = {
        type: 'deliver',
        atMs: 0,
        device: this.id,
        account: this.account,
        conv: m.conv,
        key: m.key,
        id: m.id,
        seq: typeof pos === 'number' ? pos : undefined,
        pos: typeof pos === 'string' ? pos : undefined,
        from: m.from,
        replay: m.replay,
      };
      if (m.sha256) e.sha256 = m.sha256;
      if (m.attachments) e.attachments = m.attachments;
      this.o.recorder.emit(e);
    },
    ack: (a: AckReport) => {
      this.outbox.delete(a.key);
      const pos = a.position;
      const e: AckEvent = {
        type: 'ack',
        atMs: 0,
        device: this.id,
        conv: a.conv,
        key: a.key,
        id: a.id,
        seq: typeof pos === 'number' ? pos : undefined,
        pos: typeof pos === 'string' ? pos : undefined,
      };
      this.o.recorder.emit(e);
    },
    refused: (r: { key: string; conv: string; refusal: Refusal }) => {
      const p = this.outbox.get(r.key);
      const retry = r.refusal.kind === 'retry' && p !== undefined;
      this.o.recorder.emit({ type: 'nack', device: this.id, conv: r.conv, key: r.key, code: r.refusal.code ?? 'retry', final: !retry });
      if (!retry) {
        this.outbox.delete(r.key);
        return;
      }
      const afterMs = r.refusal.kind === 'retry' ? r.refusal.afterMs : 0;
      setTimeout(() => {
        if (this.state === 'live' && this.outbox.has(r.key)) this.write(p);
      }, Math.max(10, afterMs));
    },
    position: (position: unknown) => {
      this.position = position;
    },
    step: (step: string) => {
      this.attemptStep = step;
    },
    unread: (u: UnreadReport) => {
      const e: UnreadEvent =
        u.readSeq === undefined
          ? { type: 'unread', atMs: 0, device: this.id, account: this.account, conv: u.conv, count: u.count }
          : { type: 'unread', atMs: 0, device: this.id, account: this.account, conv: u.conv, count: u.count, readSeq: u.readSeq };
      if (u.source !== undefined) e.source = u.source;
      this.o.recorder.emit(e);
    },
    closed: (reason: string) => this.lost(reason, false),
    uploadProgress: (key: string, sent: number, total: number) => this.o.hooks?.uploadProgress?.(this, key, sent, total),
  };
}

