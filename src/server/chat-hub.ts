/**
 * The chat logic of the reference server: who is connected, and what each client frame does.
 *
 *   send --> dedup by (device, cid) --> rate limit --> store.append (staged)
 *                                                            |
 *   end of the event-loop turn: store.flush (one transaction for the turn's sends), then per send:
 *          ack to the sender
 *          serialize the msg frame ONCE --> every live device of every member but the sender
 *                                      --> `unread` to every device of every other member
 *                                          (coalesced per account and conversation per loop turn)
 *
 * Answers to `send` (ack and nack) are queued and sent in order at the end of the turn, after
 * the commit, so an ack always means "durable" and a connection's answers keep its send order.
 * Everything else is synchronous except sync replay and downloads, which wait for the socket to
 * drain between batches. Defects fire at the points marked `defects.fires(...)`.
 */
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import {
  MAX_BODY_BYTES,
  PROTOCOL_VERSION,
  CloseCode,
  type ClientFrame,
  type AckFrame,
  type ConversationInfo,
  type NackFrame,
  type HistoryFrame,
  type ReadFrame,
  type SendFrame,
  type SyncFrame,
} from '../protocol/frames.ts';
import { AttachmentAccess } from './attachment-access.ts';
import { AttachmentTransfer } from './attachment-transfer.ts';
import { parseClientFrame } from './client-frame-schema.ts';
import { toMessageFrame } from './message-frame.ts';
import type { Defects } from './defects.ts';
import { DeviceSession } from './device-session.ts';
import type { ResolvedServerOptions } from './options.ts';
import type { ConversationRecord, DeviceRecord, StoredMessage, Store } from './store.ts';
import { TokenBucket } from './token-bucket.ts';
import { WriteBatch } from './write-batch.ts';

/** Messages and bytes per replay batch; the replay waits for the socket between batches. */
const REPLAY_BATCH = 256;
const REPLAY_BATCH_BYTES = 1024 * 1024;
/**
 * Newest messages of a conversation the `history-cutoff` defect leaves reachable by paging: what
 * a history cache or retention cut-off does to a conversation after months of use.
 */
export const HISTORY_CUTOFF_KEEP = 10_000;

/** A queued answer to a `send`: a fresh message (ack + fan-out) or a ready reply (dup ack, nack). */
type Answer =
  | { kind: 'stored'; session: DeviceSession; conv: ConversationRecord; msg: StoredMessage }
  | { kind: 'reply'; session: DeviceSession; frame: AckFrame | NackFrame };

interface Connection {
  session: DeviceSession;
  transfer: AttachmentTransfer;
}

/** Connected devices and the handling of every client frame (see the diagram above). */
export class ChatHub {
  /** account -> device -> connection. */
  private readonly byAccount = new Map<string, Map<string, Connection>>();
  private readonly buckets = new Map<string, TokenBucket>();
  /** account -> conversations whose `unread` push is due at the end of this event-loop turn. */
  private readonly unreadDue = new Map<string, Set<string>>();
  private readonly batch = new WriteBatch(() => this.endOfTurn());
  /** Answers to this turn's sends, in arrival order; sent after the store's commit. */
  private answers: Answer[] = [];
  private readonly access: AttachmentAccess;

  constructor(
    private readonly store: Store,
    private readonly defects: Defects,
    private readonly opts: ResolvedServerOptions,
  ) {
    this.access = new AttachmentAccess(store);
  }

  /** Number of connected devices. */
  get connectionCount(): number {
    let n = 0;
    for (const m of this.byAccount.values()) n += m.size;
    return n;
  }

  /** Register an authenticated device connection and send `welcome`. */
  attach(ws: WebSocket, socket: Duplex, device: DeviceRecord): void {
    const session = new DeviceSession(ws, socket, device.id, device.account, this.opts.maxBufferedBytes, this.batch);
    const conn: Connection = {
      session,
      transfer: new AttachmentTransfer(session, this.store, this.defects, this.access, (code, message, ref) =>
        this.protocolError(session, code, message, ref),
      ),
    };
    let devices = this.byAccount.get(device.account);
    if (!devices) this.byAccount.set(device.account, (devices = new Map()));
    const previous = devices.get(device.id);
    if (previous) previous.session.close(CloseCode.replaced, 'replaced by a newer connection of the same device');
    devices.set(device.id, conn);

    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) conn.transfer.chunk(data);
      else this.onText(conn, data.toString('utf8'));
    });
    ws.once('close', () => {
      const map = this.byAccount.get(device.account);
      if (map?.get(device.id) === conn) {
        map.delete(device.id);
        if (map.size === 0) this.byAccount.delete(device.account);
      }
    });

    const convs: ConversationInfo[] = this.store.conversationsOf(device.account).map((c) => ({
      conv: c.id,
      kind: c.kind,
      members: [...c.members],
      lastSeq: c.lastSeq,
      readSeq: this.store.readSeq(c.id, device.account),
      unread: this.store.unread(c.id, device.account),
    }));
    session.send({
      t: 'welcome',
      protocol: PROTOCOL_VERSION,
      account: device.account,
      device: device.id,
      serverTime: Date.now(),
      convs,
    });
  }

  /** Close every connection (server shutdown). */
  closeAll(code: number, reason: string): void {
    for (const devices of this.byAccount.values()) {
      for (const c of devices.values()) c.session.close(code, reason);
    }
  }

  private onText(conn: Connection, text: string): void {
    const parsed = parseClientFrame(text);
    if (parsed.state === 'invalid') {
      this.protocolError(conn.session, parsed.code, parsed.message, parsed.ref);
      return;
    }
    try {
      this.dispatch(conn, parsed.frame);
    } catch (err) {
      // A bug or a store failure must not take the server down: tell the device and go on.
      this.opts.log(`error handling ${parsed.frame.t} from ${conn.session.device}: ${String(err)}`);
      const f = parsed.frame;
      if (f.t === 'send') {
        this.answer({
          kind: 'reply',
          session: conn.session,
          frame: { t: 'nack', cid: f.cid, conv: f.conv, code: 'unavailable', message: `server error: ${String(err)}` },
        });
      } else {
        conn.session.send({ t: 'error', code: 'internal', message: `server error: ${String(err)}` });
      }
    }
  }

  private dispatch(conn: Connection, f: ClientFrame): void {
    const s = conn.session;
    switch (f.t) {
      case 'send':
        return this.onSend(s, f);
      case 'sync':
        return this.onSync(s, f);
      case 'history':
        return this.onHistory(s, f);
      case 'read':
        return this.onRead(s, f);
      case 'ping':
        return s.send({ t: 'pong', ...(f.ts !== undefined ? { ts: f.ts } : {}), serverTime: Date.now() });
      case 'upload-start':
        return conn.transfer.start(f);
      case 'upload-done':
        return conn.transfer.done(f);
      case 'download':
        conn.transfer.download(f).catch((err: unknown) => this.opts.log(`download failed: ${String(err)}`));
        return;
    }
  }

  private protocolError(s: DeviceSession, code: string, message: string, ref?: string): void {
    s.send({ t: 'error', code, message, ...(ref !== undefined ? { ref } : {}) });
    if (s.countError(Date.now())) {
      s.close(CloseCode.protocolError, 'too many protocol errors (more than 32 in 10 s)');
    }
  }

  private member(conv: string, account: string): ConversationRecord | undefined {
    const c = this.store.conversation(conv);
    return c && c.members.includes(account) ? c : undefined;
  }

  // ------------------------------------------------------------------ send

  private onSend(s: DeviceSession, f: SendFrame): void {
    const nack = (code: NackFrame['code'], message: string, retryAfterMs?: number): void =>
      this.answer({
        kind: 'reply',
        session: s,
        frame: { t: 'nack', cid: f.cid, conv: f.conv, code, message, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) },
      });

    if (!s.synced) {
      nack('invalid', 'send before sync: send a `sync` frame after `welcome` first');
      return;
    }
    const conv = this.member(f.conv, s.account);
    if (!conv) {
      nack('not-member', `account ${JSON.stringify(s.account)} is not a member of conversation ${JSON.stringify(f.conv)} (or it does not exist)`);
      return;
    }
    const bodyBytes = Buffer.byteLength(f.body, 'utf8');
    if (bodyBytes > MAX_BODY_BYTES) {
      nack('too-large', `body must be at most ${MAX_BODY_BYTES} UTF-8 bytes, got ${bodyBytes}`);
      return;
    }
    for (const a of f.attachments ?? []) {
      const stored = this.store.attachment(a.id);
      if (!stored || stored.ref.sha256 !== a.sha256 || stored.ref.size !== a.size) {
        nack('invalid', `attachment ${JSON.stringify(a.id)} is unknown or its size/sha256 differ from the upload; upload it first`);
        return;
      }
      // Forwarding is allowed, but only of what the account may see: else a stranger who learnt
      // an id could send it into its own conversation and download it from there.
      if (!this.access.allows(s.account, stored)) {
        nack('not-member', `attachment ${JSON.stringify(a.id)} was not uploaded by this account nor sent in one of its conversations; upload it first`);
        return;
      }
    }
    // Dedup before the rate limit: a message already stored is never nacked.
    const existing = this.store.findByCid(s.device, f.cid);
    if (existing && !this.defects.fires('no-dedup')) {
      this.answer({ kind: 'reply', session: s, frame: ackOf(f.cid, existing) });
      return;
    }
    if (this.opts.rateLimit) {
      const now = Date.now();
      let bucket = this.buckets.get(s.account);
      if (!bucket) this.buckets.set(s.account, (bucket = new TokenBucket(this.opts.rateLimit.perSecond, this.opts.rateLimit.burst, now)));
      const waitMs = bucket.take(now);
      if (waitMs > 0) {
        nack('rate-limited', `account ${JSON.stringify(s.account)} exceeds ${this.opts.rateLimit.perSecond} sends/s`, waitMs);
        return;
      }
    }
    const stored = this.store.append({
      conv: f.conv,
      fromAccount: s.account,
      fromDevice: s.device,
      cid: f.cid,
      kind: f.kind,
      body: f.body,
      attachments: f.attachments && f.attachments.length > 0 ? f.attachments : undefined,
    });
    this.answer({ kind: 'stored', session: s, conv, msg: stored });
  }

  private answer(a: Answer): void {
    this.answers.push(a);
    this.batch.schedule();
  }

  /** End of an event-loop turn: commit this turn's messages, answer its sends, push unread. */
  private endOfTurn(): void {
    const answers = this.answers;
    this.answers = [];
    let committed = true;
    try {
      this.store.flush();
    } catch (err) {
      committed = false;
      this.opts.log(`store commit failed, nacking ${answers.length} sends: ${String(err)}`);
    }
    for (const a of answers) {
      try {
        if (a.kind === 'reply') a.session.send(a.frame);
        else if (!committed) {
          a.session.send({ t: 'nack', cid: a.msg.cid, conv: a.msg.conv, code: 'unavailable', message: 'the server could not store the message; resend it' });
        } else {
          a.session.send(ackOf(a.msg.cid, a.msg));
          this.fanOut(a.conv, a.msg, a.session);
        }
      } catch (err) {
        this.opts.log(`answering a send failed: ${String(err)}`);
      }
    }
    this.flushUnread();
  }

  private fanOut(conv: ConversationRecord, m: StoredMessage, sender: DeviceSession): void {
    const frame = Buffer.from(JSON.stringify(toMessageFrame(m, false)));
    const drop = this.defects.has('drop-fanout');
    const reorder = this.defects.has('reorder');
    for (const account of conv.members) {
      const devices = this.byAccount.get(account);
      if (!devices) continue;
      for (const { session } of devices.values()) {
        if (session === sender || !session.liveFor(conv.id)) continue;
        if (drop && this.defects.fires('drop-fanout')) continue;
        if (reorder) session.sendReordered(conv.id, frame, this.defects.fires('reorder'));
        else session.sendRaw(frame);
      }
      if (account !== m.fromAccount && devices.size > 0) this.queueUnread(account, conv.id);
    }
    if (this.defects.has('leak') && this.defects.fires('leak')) this.leak(conv, m, frame);
  }

  /**
   * Unread pushes after new messages are coalesced: one per (account, conversation) per
   * event-loop turn, with the count current when it is sent. Under load this replaces one
   * `unread` per message and recipient device by one per burst, as badge updates in real
   * back ends are debounced.
   */
  private queueUnread(account: string, conv: string): void {
    let convs = this.unreadDue.get(account);
    if (!convs) this.unreadDue.set(account, (convs = new Set()));
    convs.add(conv);
    this.batch.schedule();
  }

  private flushUnread(): void {
    for (const [account, convs] of this.unreadDue) {
      const devices = this.byAccount.get(account);
      if (!devices) continue;
      for (const conv of convs) {
        const frame = JSON.stringify({
          t: 'unread',
          conv,
          count: this.store.unread(conv, account),
          readSeq: this.store.readSeq(conv, account),
        });
        for (const { session } of devices.values()) session.sendRaw(frame);
      }
    }
    this.unreadDue.clear();
  }

  /** `leak` defect: push the frame to one live device of an account outside the conversation. */
  private leak(conv: ConversationRecord, m: StoredMessage, frame: Buffer): void {
    const strangers: DeviceSession[] = [];
    for (const [account, devices] of this.byAccount) {
      if (conv.members.includes(account)) continue;
      for (const { session } of devices.values()) if (session.synced) strangers.push(session);
    }
    const stranger = strangers[strangers.length > 0 ? this.defects.pick(strangers.length) : 0];
    if (!stranger) return;
    for (const a of m.attachments ?? []) this.access.grant(stranger.account, a.id);
    stranger.sendRaw(frame);
  }

  // ------------------------------------------------------------------ sync

  private onSync(s: DeviceSession, f: SyncFrame): void {
    s.synced = true;
    const jobs: { conv: string; cursor: number; gen: number }[] = [];
    for (const [conv, cursor] of Object.entries(f.cursors)) {
      if (!this.member(conv, s.account)) {
        this.protocolError(s, 'not-member', `cannot sync conversation ${JSON.stringify(conv)}: not a member (or it does not exist)`, conv);
        continue;
      }
      jobs.push({ conv, cursor, gen: s.beginReplay(conv) });
    }
    void this.replay(s, jobs).catch((err: unknown) => this.opts.log(`replay to ${s.device} failed: ${String(err)}`));
  }

  private async replay(s: DeviceSession, jobs: { conv: string; cursor: number; gen: number }[]): Promise<void> {
    for (const job of jobs) {
      let cursor = job.cursor;
      while (s.replayCurrent(job.conv, job.gen)) {
        const batch = this.store.after(job.conv, cursor, REPLAY_BATCH);
        let last: Promise<void> | undefined;
        let bytes = 0;
        let sent = 0;
        for (const m of batch) {
          const frame = JSON.stringify(toMessageFrame(m, true));
          last = s.sendAndFlush(frame);
          cursor = m.seq;
          sent++;
          bytes += frame.length;
          if (bytes >= REPLAY_BATCH_BYTES) break;
        }
        if (batch.length < REPLAY_BATCH && sent === batch.length) {
          // Caught up in this same tick: nothing newer can have been committed in between, so
          // the device goes live exactly after the last replayed seq.
          s.replaying.delete(job.conv);
          s.send({ t: 'synced', conv: job.conv, lastSeq: this.store.conversation(job.conv)?.lastSeq ?? cursor });
          break;
        }
        await last;
      }
    }
  }

  // ------------------------------------------------------------------ history, read

  private onHistory(s: DeviceSession, f: HistoryFrame): void {
    const c = this.store.conversation(f.conv);
    if (!c) {
      this.protocolError(s, 'unknown-conv', `no conversation ${JSON.stringify(f.conv)}`, f.req);
      return;
    }
    if (!c.members.includes(s.account)) {
      this.protocolError(s, 'not-member', `account ${JSON.stringify(s.account)} is not a member of ${JSON.stringify(f.conv)}`, f.req);
      return;
    }
    let page = this.store.page(f.conv, { before: f.before, after: f.after, limit: f.limit ?? 50 });
    const floor = c.lastSeq - HISTORY_CUTOFF_KEEP;
    if (floor > 0 && this.defects.has('history-cutoff') && (page.messages[0]?.seq ?? Infinity) <= floor && this.defects.fires('history-cutoff')) {
      // Everything at or below the cut-off is gone, and the page says there is no more.
      page = { messages: page.messages.filter((m) => m.seq > floor), hasMore: false };
    }
    const messages = page.messages.map((m) => toMessageFrame(m, false));
    if (messages.length >= 3 && this.defects.has('history-gap') && this.defects.fires('history-gap')) {
      messages.splice(1 + this.defects.pick(messages.length - 2), 1);
    }
    s.sendRaw(
      JSON.stringify({
        t: 'page',
        req: f.req,
        conv: f.conv,
        messages: messages.map(({ t: _t, ...rest }) => rest),
        hasMore: page.hasMore,
      }),
    );
  }

  private onRead(s: DeviceSession, f: ReadFrame): void {
    if (!this.member(f.conv, s.account)) {
      this.protocolError(s, 'not-member', `account ${JSON.stringify(s.account)} is not a member of ${JSON.stringify(f.conv)}`, f.conv);
      return;
    }
    const readSeq = this.store.advanceRead(f.conv, s.account, f.seq);
    const frame = JSON.stringify({ t: 'unread', conv: f.conv, count: this.store.unread(f.conv, s.account), readSeq });
    for (const { session } of this.byAccount.get(s.account)?.values() ?? []) {
      if (session !== s && this.defects.fires('stale-unread')) continue;
      session.sendRaw(frame);
    }
  }
}

function ackOf(cid: string, m: StoredMessage): AckFrame {
  return { t: 'ack', cid, conv: m.conv, id: m.id, seq: m.seq, ts: m.ts };
}
