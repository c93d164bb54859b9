/**
 * A virtual device: one account's phone, desktop or browser tab. It keeps a connection through
 * its network, an outbox of unacknowledged messages (resent with the same key after a
 * reconnect), and the last sequence it saw per conversation (to sync from after a reconnect).
 *
 * Sync cursor: the highest seq handed over or acknowledged (own messages are never delivered back
 * to the sending device, so the ack is what lets a sync skip them), capped below the lowest
 * message the driver still holds (e.g. attachments downloading). Held messages stay on record
 * across a lost connection until they are handed over, so a reconnect replays them.
 *
 *   offline --connect--> connecting --live--> live --closed--> offline (backoff) --> connecting
 *                                               |
 *                                          stop() --> stopped
 */
import type { Connection, Driver, DeviceIdentity, InboundMessage, OutboundAttachment, UnreadReport } from '../drivers/driver.ts';
import type { Recorder } from '../history/recorder.ts';
import type { AckEvent, DeliverEvent, SendEvent, UnreadEvent } from '../history/events.ts';
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
  driver: Driver;
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

export type DeviceState = 'offline' | 'connecting' | 'live' | 'stopped';

// The hot events are built with `atMs: 0` for the recorder to stamp: a field an object literal
// lacks is added out of line (one more allocation per event, and a slower shape to read).

export class VirtualDevice {
  readonly id: string;
  readonly account: string;
  state: DeviceState = 'offline';
  /** Unacknowledged messages by key, in send order. */
  readonly outbox = new Map<string, PendingMessage>();
  /** Highest seq seen per conversation (handed over, or acknowledged for own messages). */
  readonly cursors = new Map<string, number>();
  /**
   * Messages the driver reported holding and has not handed over yet: conv -> seqs. Null while
   * none (the common case: a device stays small and the deliver path does one null check).
   */
  private held: Map<string, Set<number>> | null = null;
  private conn: Connection | null = null;
  private attempt = 0;
  private downSince: number | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  /** Ends the backoff wait early (stop()). */
  private wakeRetry: (() => void) | null = null;
  /** Aborts the connection attempt in flight (stop()). */
  private attemptAbort: AbortController | null = null;
  private wasLive = false;
  /** History loads under way (the runner's drain waits for them). */
  historyLoads = 0;

  constructor(private readonly o: DeviceOptions) {
    this.id = o.identity.device;
    this.account = o.identity.account;
  }

  /** Connect until live; resolves true when live, false when stopped first. */
  async connect(): Promise<boolean> {
    const { recorder, driver } = this.o;
    if (this.downSince === null) this.downSince = recorder.now();
    while (this.state !== 'stopped') {
      this.attempt++;
      this.state = 'connecting';
      recorder.emit({ type: 'connect', device: this.id, attempt: this.attempt });
      const attempt = new AbortController();
      this.attemptAbort = attempt;
      try {
        const conn = await driver.connect({
          url: this.o.url,
          identity: this.o.identity,
          cursors: this.syncCursors(),
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
        for (const [conv, seq] of conn.serverCursors) if (!this.cursors.has(conv)) this.cursors.set(conv, seq);
        this.conn = conn;
        this.state = 'live';
        recorder.emit({ type: 'connected', device: this.id, tookMs: recorder.now() - (this.downSince ?? recorder.now()) });
        this.downSince = null;
        this.attempt = 0;
        this.o.hooks?.onLive?.(this);
        this.flushOutbox();
        if (this.wasLive && this.o.history?.onReconnect) void this.loadAfterReconnect(conn);
        this.wasLive = true;
        return true;
      } catch (err) {
        this.attemptAbort = null;
        if (this.stopped) return false;
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

  /** Mark a conversation read up to the highest seq this device saw; false if nothing to read. */
  markRead(conv: string): boolean {
    const seq = this.cursors.get(conv);
    if (this.state !== 'live' || seq === undefined || seq === 0 || !this.conn) return false;
    this.conn.markRead(conv, seq);
    this.o.recorder.emit({ type: 'read', device: this.id, account: this.account, conv, seq });
    return true;
  }

  /**
   * Load history of `conv` as the app does when it is opened: the newest page, then older pages
   * (`before` the oldest seq seen) until `pages` pages or the server has no more. Each page is a
   * `page` event timed from request to answer. A load stops silently when the connection changes
   * or the request fails (the device is then reconnecting; nothing was shown). Resolves with the
   * pages loaded; 0 when not live.
   */
  async loadHistory(conv: string): Promise<number> {
    const h = this.o.history;
    const conn = this.conn;
    if (!h || this.state !== 'live' || !conn) return 0;
    const { recorder } = this.o;
    this.historyLoads++;
    let loaded = 0;
    try {
      let before: number | undefined;
      while (loaded < h.pages && this.conn === conn) {
        const t0 = recorder.now();
        let page;
        try {
          page = await conn.history(before === undefined ? { conv, limit: h.pageSize } : { conv, before, limit: h.pageSize });
        } catch {
          return loaded;
        }
        const tookMs = Math.round((recorder.now() - t0) * 1000) / 1000;
        const n = page.messages.length;
        const seqs = new Array<number>(n);
        const keys = new Array<string>(n);
        let oldest = Infinity;
        for (let i = 0; i < n; i++) {
          const m = page.messages[i] as { key: string; seq: number };
          seqs[i] = m.seq;
          keys[i] = m.key;
          if (m.seq < oldest) oldest = m.seq;
        }
        recorder.emit(
          before === undefined
            ? { type: 'page', device: this.id, conv, limit: h.pageSize, seqs, keys, hasMore: page.hasMore, tookMs }
            : { type: 'page', device: this.id, conv, before, limit: h.pageSize, seqs, keys, hasMore: page.hasMore, tookMs },
        );
        loaded++;
        if (!page.hasMore || n === 0) break;
        before = oldest;
      }
      return loaded;
    } finally {
      this.historyLoads--;
    }
  }

  /** After a reconnect: catch up on the history of every conversation with messages, one at a time. */
  private async loadAfterReconnect(conn: Connection): Promise<void> {
    const convs = [...this.cursors].filter(([, seq]) => seq > 0).map(([conv]) => conv);
    for (const conv of convs) {
      if (this.conn !== conn) return;
      await this.loadHistory(conv);
    }
  }

  /**
   * The cursors to sync from: `cursors`, each capped below the lowest message of its conversation
   * still held (received by a driver, never handed over), so the sync replays it.
   */
  syncCursors(): ReadonlyMap<string, number> {
    if (this.held === null) return this.cursors;
    const out = new Map(this.cursors);
    for (const [conv, seqs] of this.held) {
      let lowest = Infinity;
      for (const seq of seqs) if (seq < lowest) lowest = seq;
      const cap = Math.max(0, lowest - 1);
      const cur = out.get(conv);
      if (cur === undefined || cur > cap) out.set(conv, cap);
    }
    return out;
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
    this.conn.send(p);
    this.o.hooks?.afterWrite?.(this, p);
  }

  /** After (re)connecting: resend everything unacknowledged, oldest first, same keys. */
  private flushOutbox(): void {
    for (const p of this.outbox.values()) {
      if (this.state !== 'live') return;
      this.write(p);
    }
  }

  private handedOver(conv: string, seq: number): void {
    const seqs = this.held?.get(conv);
    if (!seqs?.delete(seq) || seqs.size > 0) return;
    this.held?.delete(conv);
    if (this.held?.size === 0) this.held = null;
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
      if (this.held !== null) this.handedOver(m.conv, m.seq);
      const prev = this.cursors.get(m.conv);
      if (prev === undefined || m.seq > prev) this.cursors.set(m.conv, m.seq);
      const e: DeliverEvent = {
        type: 'deliver',
        atMs: 0,
        device: this.id,
        account: this.account,
        conv: m.conv,
        key: m.key,
        id: m.id,
        seq: m.seq,
        from: m.from,
        replay: m.replay,
      };
      if (m.sha256) e.sha256 = m.sha256;
      this.o.recorder.emit(e);
    },
    ack: (a: { key: string; conv: string; id: string; seq: number }) => {
      this.outbox.delete(a.key);
      const prev = this.cursors.get(a.conv);
      if (prev === undefined || a.seq > prev) this.cursors.set(a.conv, a.seq);
      const e: AckEvent = { type: 'ack', atMs: 0, device: this.id, conv: a.conv, key: a.key, id: a.id, seq: a.seq };
      this.o.recorder.emit(e);
    },
    nack: (n: { key: string; conv: string; code: string; retryAfterMs?: number }) => {
      const p = this.outbox.get(n.key);
      const retry = n.code === 'rate-limited' && p !== undefined;
      this.o.recorder.emit({ type: 'nack', device: this.id, conv: n.conv, key: n.key, code: n.code, final: !retry });
      if (!retry) {
        this.outbox.delete(n.key);
        return;
      }
      setTimeout(() => {
        if (this.state === 'live' && this.outbox.has(n.key)) this.write(p);
      }, Math.max(10, n.retryAfterMs ?? 1000));
    },
    unread: (u: UnreadReport) => {
      const e: UnreadEvent =
        u.readSeq === undefined
          ? { type: 'unread', atMs: 0, device: this.id, account: this.account, conv: u.conv, count: u.count }
          : { type: 'unread', atMs: 0, device: this.id, account: this.account, conv: u.conv, count: u.count, readSeq: u.readSeq };
      if (u.source !== undefined) e.source = u.source;
      this.o.recorder.emit(e);
    },
    holding: (conv: string, seq: number) => {
      this.held ??= new Map();
      let seqs = this.held.get(conv);
      if (seqs === undefined) this.held.set(conv, (seqs = new Set()));
      seqs.add(seq);
    },
    closed: (reason: string) => this.lost(reason, false),
    uploadProgress: (key: string, sent: number, total: number) => this.o.hooks?.uploadProgress?.(this, key, sent, total),
  };
}
