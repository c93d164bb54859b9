/**
 * The reference driver: speaks the reference protocol (`docs/protocol.md`) over `ws`. The key of
 * a message travels as the protocol's client id (`cid`), so it comes back on acks and on every
 * delivered copy.
 *
 *   send:     [attachments: upload-start -> chunk* -> upload-done -> uploaded]* -> send(cid=key)
 *             one message at a time per connection while attachments upload, so the device's
 *             order on the wire is its send order; chunks wait for the socket (backpressure)
 *   connect:  welcome (unread counts of every conversation -> handlers.unread, source 'welcome')
 *             -> sync(cursors) -> synced per conversation -> live
 *   position: the device's catch-up position is its cursor per conversation (highest seq handed
 *             over, or acknowledged for its own messages), capped below any message still held
 *             back (attachments downloading), so a reconnect replays what the device was never
 *             handed; kept in the device's own state (`deviceState`, the same object on every
 *             connection) and read from it at connect, so nothing is reported per move
 *   receive:  msg -> [download -> download-start -> chunk* (hashed as they come) -> download-done]*
 *             -> handlers.message(sha256); later messages of that conversation wait behind it
 */
import { createHash, type Hash } from 'node:crypto';
import WebSocket from 'ws';
import { decodeChunk, encodeChunk, type AttachmentRef, type ClientFrame, type MessageFrame, type ServerFrame, type ProvisionRequest } from '../protocol/frames.ts';
import { DRIVER_CONTRACT, type Connection, type ConnectOptions, type DeviceHandlers, type Driver, type HistoryPage, type HistoryRequest, type InboundMessage, type OutboundAttachment, type OutboundMessage, type FetchOutcome, type PreloadedHistory, type PreloadHistoryRequest, type ProvisionRequest as DriverProvisionRequest } from './driver.ts';
import { MESSAGE_KINDS } from '../domain/index.ts';
import { MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS_PER_MESSAGE, MAX_BODY_BYTES } from '../protocol/frames.ts';
import { UnreachableError, ChatstormError } from '../errors.ts';
import { certificateHint, clientOptions, endpointOf, type Target } from '../net/target.ts';
import { requestEndpoint } from '../net/http-request.ts';
import type { PreloadRequest } from '../server/admin-schema.ts';

/** The server answered provisioning with an error. */
export class ProvisionError extends ChatstormError {
  constructor(message: string) {
    super('CHATSTORM_ERR_PROVISION', message);
  }
}

/** Upload chunk payload: well under the reference server's 1 MiB frame limit. */
const UPLOAD_CHUNK_BYTES = 256 * 1024;
/** Upload chunks handed to the socket and not yet written out: backpressure, and no 10 MB bursts on the event loop. */
const UPLOAD_WINDOW = 4;

/**
 * RFC 6455 §5.3 requires clients to mask frames so that a hostile page cannot make a browser
 * emit bytes that poison an intermediary's cache (§10.3). The harness is not a browser and sends
 * no attacker-chosen bytes; with an all-zero key `ws` skips the XOR pass over every outgoing byte
 * (megabytes per attachment), which is the harness's CPU, not the server's.
 */
function zeroMask(mask: Buffer): void {
  mask.fill(0);
}

/**
 * The server token (`$CHATSTORM_SERVER_TOKEN`), sent as `Authorization: Bearer` on provisioning
 * and on every device's upgrade: a reference server bound beyond loopback requires it.
 */
function tokenHeaders(): Record<string, string> {
  const token = process.env['CHATSTORM_SERVER_TOKEN'];
  return token ? { authorization: `Bearer ${token}` } : {};
}

/**
 * POST a JSON body to the server's admin API (`/admin/<what>`) beside its WebSocket (same host,
 * TLS settings and Host); resolves with the answer's text, throws ProvisionError on an error status.
 */
async function adminPost(url: string, t: Target | undefined, what: 'provision' | 'preload', body: unknown): Promise<string> {
  const api = t?.http ?? endpointOf(new URL(`${httpBase(url)}/`), null, { insecure: false });
  let res: { ok: boolean; status: number; text: string };
  try {
    res = await requestEndpoint(api, `admin/${what}`, { method: 'POST', headers: { 'content-type': 'application/json', ...tokenHeaders() }, body: JSON.stringify(body) });
  } catch (err) {
    throw new UnreachableError(
      'chat server',
      url,
      certificateHint(err) ?? 'Start one with `chatstorm serve --port P` and pass `--target ws://127.0.0.1:P`, or omit --target to let chatstorm start its own.',
      { cause: err },
    );
  }
  if (!res.ok) throw new ProvisionError(`${what === 'provision' ? 'provisioning' : 'preloading history'} at ${httpBase(url)}/admin/${what} failed: HTTP ${res.status} ${res.text}`);
  return res.text;
}

function httpBase(url: string): string {
  return url.replace(/^ws(s?):\/\//, 'http$1://').replace(/\/+$/, '');
}

/**
 * What a device keeps across its connections: its cursors and the messages held back. A
 * connection syncs each conversation from {@link ReferenceDeviceState.syncFrom}, read at connect,
 * so the driver reports no position (`handlers.position`) per move: this state outlives the
 * connection, and nothing else needs the position.
 */
export class ReferenceDeviceState {
  /** Highest seq seen per conversation (handed over, or acknowledged for own messages). */
  readonly cursors = new Map<string, number>();
  /** Messages received and not handed over yet: conv -> seqs. */
  private readonly held = new Map<string, Set<number>>();

  /** A message of `conv` at `seq` was handed over or acknowledged: true when the cursor moved. */
  seen(conv: string, seq: number): boolean {
    const prev = this.cursors.get(conv);
    if (prev !== undefined && seq <= prev) return false;
    this.cursors.set(conv, seq);
    return true;
  }

  /** A message arrived that is not handed over yet: the position stays below it until released. */
  hold(conv: string, seq: number): void {
    let seqs = this.held.get(conv);
    if (seqs === undefined) this.held.set(conv, (seqs = new Set()));
    seqs.add(seq);
  }

  /** A held message was handed over: true when it was held. */
  release(conv: string, seq: number): boolean {
    const seqs = this.held.get(conv);
    if (!seqs?.delete(seq)) return false;
    if (seqs.size === 0) this.held.delete(conv);
    return true;
  }

  /**
   * The seq to sync `conv` from: its cursor, capped below the lowest message of `conv` still
   * held (a reconnect replays what the device was never handed); undefined when the device has
   * no cursor there (it starts at the server's last seq).
   */
  syncFrom(conv: string): number | undefined {
    const cursor = this.cursors.get(conv);
    const seqs = this.held.get(conv);
    if (seqs === undefined) return cursor;
    let lowest = Infinity;
    for (const seq of seqs) if (seq < lowest) lowest = seq;
    const cap = Math.max(0, lowest - 1);
    return cursor === undefined || cursor > cap ? cap : cursor;
  }
}

/** The reference driver: contract v2 over the reference protocol. */
export const referenceDriver: Driver<undefined, ReferenceDeviceState> = {
  contract: DRIVER_CONTRACT,
  name: 'reference',
  capabilities: {
    ordering: 'number',
    serverIds: 'global',
    kinds: MESSAGE_KINDS,
    attachments: true,
    historyPages: true,
    unreadCounts: true,
    readMarkers: true,
    groups: true,
    clientIds: true,
    resumption: false,
  },
  limits: { maxBodyBytes: MAX_BODY_BYTES, maxAttachmentBytes: MAX_ATTACHMENT_BYTES, maxAttachmentsPerMessage: MAX_ATTACHMENTS_PER_MESSAGE },

  deviceState: () => new ReferenceDeviceState(),

  async provision({ url, accounts, conversations, target }: DriverProvisionRequest) {
    const body: ProvisionRequest = {
      accounts: accounts.map((a) => ({ id: a.id, role: a.role, devices: a.devices.map((d) => ({ id: d.id, token: d.token })) })),
      conversations: conversations.map((c) => ({ id: c.id, kind: c.kind, members: c.members })),
    };
    await adminPost(url, target, 'provision', body);
    return undefined;
  },

  async preloadHistory({ url, target, conv, messages, keyDevice, bodyBytes, spanDays }: PreloadHistoryRequest<undefined>): Promise<PreloadedHistory> {
    // The server names the n-th message `<cidPrefix><n>`: with `<keyDevice>#` that is the harness key.
    const body: PreloadRequest = { conv, count: messages, bodyBytes, spanDays, cidPrefix: `${keyDevice}#` };
    const text = await adminPost(url, target, 'preload', body);
    const answer = JSON.parse(text) as { firstSeq?: unknown; lastSeq?: unknown };
    if (typeof answer.firstSeq !== 'number' || typeof answer.lastSeq !== 'number' || answer.lastSeq - answer.firstSeq + 1 !== messages) {
      throw new ProvisionError(`preloading ${messages} messages into ${conv} at ${httpBase(url)}/admin/preload: expected firstSeq and lastSeq ${messages - 1} apart, got ${text}`);
    }
    return { first: answer.firstSeq, last: answer.lastSeq };
  },

  connect(opts: ConnectOptions<undefined, ReferenceDeviceState>): Promise<Connection> {
    const { identity, state } = opts;
    // The driver's own view of the device's handlers: cursors move as messages are handed over
    // and acknowledged (the device's state, read at the next connect).
    const outer = opts.handlers;
    const handlers: DeviceHandlers = {
      ...outer,
      message: (m) => {
        const seq = m.position as number;
        state.release(m.conv, seq);
        outer.message(m);
        state.seen(m.conv, seq);
      },
      ack: (a) => {
        outer.ack(a);
        state.seen(a.conv, a.position as number);
      },
    };
    // Holding a message caps the position below it at once: a reconnect from now on replays it.
    const hold = (conv: string, seq: number): void => state.hold(conv, seq);
    // The target's path is the base of the protocol's `/ws`; its query is kept beside ours.
    const url = new URL(opts.target?.url ?? opts.url);
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/ws`;
    url.searchParams.set('device', identity.device);
    url.searchParams.set('token', identity.token);
    const client = clientOptions(opts.target);
    // Steps of an attempt, reported as reached (a failed attempt is recorded with the last one).
    const step = outer.step ?? (() => {});
    step('tcp');
    const ws = new WebSocket(url, {
      ...client,
      // The target's Host (when it differs from the address dialled) and the server token together.
      headers: { ...client.headers, ...tokenHeaders() },
      perMessageDeflate: false,
      handshakeTimeout: opts.timeoutMs,
      generateMask: zeroMask,
      // ws lets the caller finish the upgrade request: the only place to see its TCP connect.
      finishRequest: (req) => {
        req.on('socket', (socket) => {
          if (socket.connecting) socket.once('connect', () => step('upgrade'));
          else step('upgrade');
        });
        req.end();
      },
    });
    ws.once('upgrade', () => step('welcome'));
    /** Conversations of the welcome with their last seq: where a device with no cursor starts. */
    const serverCursors = new Map<string, number>();
    const pendingPages = new Map<string, { resolve: (p: HistoryPage) => void; reject: (e: Error) => void }>();
    /** Probe fetches awaiting `download-start` or `error`, by req (`p<n>`; their chunks are ignored). */
    const probes = new Map<string, (o: FetchOutcome) => void>();
    let nextReq = 1;
    let live = false;
    let closedByUs = false;
    let gone = false;
    const frame = (f: ClientFrame): void => ws.send(JSON.stringify(f));
    // Attachment state exists only on connections that move attachments.
    let outbound: Outbound | null = null;
    let inbound: Inbound | null = null;
    const isGone = () => gone;

    return new Promise<Connection>((resolve, reject) => {
      let awaitingSync = new Set<string>();
      const timer = setTimeout(() => fail(new Error(`connect timed out after ${opts.timeoutMs} ms`)), opts.timeoutMs);
      const fail = (err: Error) => {
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        if (!live) {
          ws.terminate();
          reject(err);
        }
      };
      const onAbort = () => fail(new Error('connect aborted: the device was stopped'));
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      if (opts.signal?.aborted) queueMicrotask(onAbort);
      const goLive = () => {
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        live = true;
        // A conversation the device never saw a message of starts at the server's last seq.
        for (const [conv, seq] of serverCursors) if (!state.cursors.has(conv)) state.cursors.set(conv, seq);
        resolve(conn);
      };
      const conn: Connection = {
        send: (m) => {
          if (m.attachments?.length || outbound?.busy) {
            outbound ??= new Outbound(ws, frame, handlers, isGone);
            outbound.enqueue(m);
          } else frame({ t: 'send', cid: m.key, conv: m.conv, kind: m.kind, body: m.body });
        },
        markRead: (conv) => {
          const seq = state.cursors.get(conv);
          if (seq === undefined || seq === 0) return undefined;
          frame({ t: 'read', conv, seq });
          return seq;
        },
        fetchAttachment: (id) =>
          new Promise<FetchOutcome>((res) => {
            if (gone) return res({ state: 'unknown', reason: 'connection closed' });
            const req = `p${nextReq++}`;
            const timer = setTimeout(() => settle({ state: 'unknown', reason: 'no answer within 10 s' }), 10_000);
            const settle = (o: FetchOutcome): void => {
              clearTimeout(timer);
              probes.delete(req);
              res(o);
            };
            probes.set(req, settle);
            frame({ t: 'download', req, id });
          }),
        history: (req: HistoryRequest) =>
          new Promise<HistoryPage>((res, rej) => {
            const id = String(nextReq++);
            pendingPages.set(id, { resolve: res, reject: rej });
            frame({ t: 'history', req: id, conv: req.conv, before: req.before, after: req.after, limit: req.limit });
          }),
        conversationsSeen: () => [...state.cursors].filter(([, seq]) => seq > 0).map(([conv]) => conv),
        close: () => {
          closedByUs = true;
          gone = true;
          ws.close(1000, 'done');
        },
        kill: () => {
          closedByUs = true;
          gone = true;
          ws.terminate();
        },
      };
      const deliver = (f: Omit<MessageFrame, 't'>) => {
        const m: InboundMessage = { key: f.cid, conv: f.conv, id: f.id, position: f.seq, from: f.from.device, kind: f.kind, replay: f.replay === true };
        const atts = f.attachments;
        if (atts !== undefined && atts.length > 0) m.attachments = atts.map((a) => a.id);
        if ((atts !== undefined && atts.length > 0 && opts.downloadAttachments !== false) || inbound?.holds(f.conv)) {
          inbound ??= new Inbound(frame, handlers, hold);
          inbound.add(m, opts.downloadAttachments === false || atts === undefined ? [] : atts);
        } else {
          handlers.message(m);
        }
      };

      ws.on('message', (data, isBinary) => {
        if (isBinary) {
          inbound?.chunk(data as Buffer);
          return;
        }
        let f: ServerFrame;
        try {
          f = JSON.parse(data.toString()) as ServerFrame;
        } catch {
          return;
        }
        switch (f.t) {
          case 'welcome': {
            const cursors: Record<string, number> = {};
            for (const c of f.convs) {
              serverCursors.set(c.conv, c.lastSeq);
              cursors[c.conv] = state.syncFrom(c.conv) ?? c.lastSeq;
              handlers.unread({ conv: c.conv, count: c.unread, readSeq: c.readSeq, source: 'welcome' });
            }
            awaitingSync = new Set(Object.keys(cursors));
            step('sync');
            frame({ t: 'sync', cursors });
            if (awaitingSync.size === 0) goLive();
            break;
          }
          case 'synced':
            if (awaitingSync.delete(f.conv) && awaitingSync.size === 0 && !live) goLive();
            break;
          case 'msg':
            deliver(f);
            break;
          case 'ack':
            handlers.ack({ key: f.cid, conv: f.conv, id: f.id, position: f.seq });
            break;
          case 'nack':
            // The server asks to slow down with `rate-limited` (docs/protocol.md): a retry; any other code is final.
            handlers.refused({
              key: f.cid,
              conv: f.conv,
              refusal: f.code === 'rate-limited' ? { kind: 'retry', afterMs: f.retryAfterMs ?? 1000, code: f.code } : { kind: 'final', code: f.code },
            });
            break;
          case 'unread':
            handlers.unread({ conv: f.conv, count: f.count, readSeq: f.readSeq });
            break;
          case 'page': {
            const p = pendingPages.get(f.req);
            if (p) {
              pendingPages.delete(f.req);
              p.resolve({ messages: f.messages.map((m) => ({ key: m.cid, position: m.seq, id: m.id })), hasMore: f.hasMore });
            }
            break;
          }
          case 'uploaded':
            outbound?.uploaded(f.up, f.attachment);
            break;
          case 'download-start':
            probes.get(f.req)?.({ state: 'served' });
            break;
          case 'download-done':
            inbound?.done(f.req);
            break;
          case 'error': {
            const probe = f.ref === undefined ? undefined : probes.get(f.ref);
            if (probe) {
              probe({ state: 'refused', code: f.code });
              break;
            }
            if (f.ref !== undefined && outbound?.failed(f.ref, `${f.code}: ${f.message}`)) break;
            if (f.ref !== undefined && inbound?.failed(f.ref)) break;
            const p = f.ref === undefined ? undefined : pendingPages.get(f.ref);
            if (p && f.ref !== undefined) {
              pendingPages.delete(f.ref);
              p.reject(new Error(`history request failed: ${f.code}: ${f.message}`));
            }
            break;
          }
          default:
            break;
        }
      });
      ws.on('error', (err) => fail(err));
      ws.on('unexpected-response', (_req, res) => fail(new Error(`server refused the WebSocket upgrade: HTTP ${res.statusCode}`)));
      ws.on('close', (code, reason) => {
        gone = true;
        const why = `closed ${code}${reason.length ? ' ' + reason.toString() : ''}`;
        for (const p of pendingPages.values()) p.reject(new Error(`connection ${why}`));
        pendingPages.clear();
        for (const settle of [...probes.values()]) settle({ state: 'unknown', reason: `connection ${why}` });
        outbound?.abandon();
        if (!live) fail(new Error(`connection ${why} before it was live`));
        else if (!closedByUs) handlers.closed(why);
      });
    });
  },
};

/**
 * Outbound messages of one connection while attachments are involved: one message at a time,
 * its attachments uploaded one after another (so at most one upload is open on the server), the
 * message written once every `uploaded` came back.
 */
class Outbound {
  private readonly queue: OutboundMessage[] = [];
  busy = false;
  private nextUp = 1;
  /** Uploads of the current message awaiting `uploaded`: up id -> slot index. */
  private readonly waiting = new Map<string, number>();
  private refs: AttachmentRef[] = [];
  private current: OutboundMessage | null = null;

  constructor(
    private readonly ws: WebSocket,
    private readonly frame: (f: ClientFrame) => void,
    private readonly handlers: DeviceHandlers,
    private readonly gone: () => boolean,
  ) {}

  enqueue(m: OutboundMessage): void {
    this.queue.push(m);
    if (!this.busy) this.next();
  }

  uploaded(up: string, ref: AttachmentRef): void {
    const slot = this.waiting.get(up);
    if (slot === undefined) return;
    this.waiting.delete(up);
    this.refs[slot] = ref;
    if (this.waiting.size === 0) this.finish();
  }

  /** An `error` for one of our uploads: the message cannot be sent; report it and go on. */
  failed(ref: string, why: string): boolean {
    if (!this.waiting.has(ref) || !this.current) return false;
    const m = this.current;
    this.waiting.clear();
    this.current = null;
    this.handlers.refused({ key: m.key, conv: m.conv, refusal: { kind: 'final', code: `upload-failed (${why})` } });
    this.next();
    return true;
  }

  /** The connection died: unsent messages stay in the device's outbox and are resent after reconnect. */
  abandon(): void {
    this.queue.length = 0;
    this.waiting.clear();
    this.current = null;
    this.busy = false;
  }

  private next(): void {
    for (;;) {
      const m = this.queue.shift();
      if (!m || this.gone()) {
        this.busy = false;
        return;
      }
      this.busy = true;
      if (!m.attachments?.length) {
        this.frame({ t: 'send', cid: m.key, conv: m.conv, kind: m.kind, body: m.body });
        continue;
      }
      this.current = m;
      this.refs = [];
      void this.upload(m, m.attachments);
      return;
    }
  }

  /** Upload every attachment of `m`, at most UPLOAD_WINDOW chunks ahead of the socket. */
  private async upload(m: OutboundMessage, attachments: readonly OutboundAttachment[]): Promise<void> {
    const total = attachments.reduce((n, a) => n + a.bytes.length, 0);
    let sent = 0;
    const inFlight: Promise<void>[] = [];
    for (const [slot, a] of attachments.entries()) {
      const up = `u${this.nextUp++}`;
      this.waiting.set(up, slot);
      this.frame({ t: 'upload-start', up, name: a.name, mime: a.mime, size: a.bytes.length, sha256: a.sha256 });
      for (let off = 0; off < a.bytes.length; off += UPLOAD_CHUNK_BYTES) {
        const payload = a.bytes.subarray(off, Math.min(a.bytes.length, off + UPLOAD_CHUNK_BYTES));
        inFlight.push(new Promise<void>((written) => this.ws.send(encodeChunk(up, payload), () => written())));
        sent += payload.length;
        this.handlers.uploadProgress?.(m.key, sent, total);
        if (this.gone() || this.current !== m) return;
        if (inFlight.length >= UPLOAD_WINDOW) await inFlight.shift();
        if (this.gone() || this.current !== m) return;
      }
      this.frame({ t: 'upload-done', up });
    }
  }

  private finish(): void {
    const m = this.current;
    if (!m) return;
    this.current = null;
    this.frame({ t: 'send', cid: m.key, conv: m.conv, kind: m.kind, body: m.body, attachments: this.refs });
    this.next();
  }
}

interface Held {
  m: InboundMessage;
  hashes: string[];
  remaining: number;
}
interface Download {
  held: Held;
  slot: number;
  hash: Hash;
  bytes: number;
}

/**
 * Inbound messages with attachments: each attachment is downloaded and hashed as its chunks come;
 * the message is reported when all are in, and messages of the same conversation that arrived
 * after it wait (per-conversation order is what a chat client shows).
 */
class Inbound {
  private readonly byConv = new Map<string, Held[]>();
  private readonly downloads = new Map<string, Download>();
  private nextReq = 1;

  constructor(
    private readonly frame: (f: ClientFrame) => void,
    private readonly handlers: DeviceHandlers,
    /** The device's cursor must stay below a message held back (see ReferenceDeviceState). */
    private readonly hold: (conv: string, seq: number) => void,
  ) {}

  holds(conv: string): boolean {
    return this.byConv.has(conv);
  }

  add(m: InboundMessage, atts: readonly AttachmentRef[]): void {
    const held: Held = { m, hashes: atts.map(() => ''), remaining: atts.length };
    const q = this.byConv.get(m.conv);
    if (q) q.push(held);
    else this.byConv.set(m.conv, [held]);
    if (atts.length > 0) held.m.sha256 = held.hashes;
    // Before any download: the device's sync cursor must not pass a message it was not handed.
    this.hold(m.conv, m.position as number);
    for (const [slot, a] of atts.entries()) {
      const req = `d${this.nextReq++}`;
      this.downloads.set(req, { held, slot, hash: createHash('sha256'), bytes: 0 });
      this.frame({ t: 'download', req, id: a.id });
    }
    this.flush(m.conv);
  }

  chunk(data: Buffer): void {
    const c = decodeChunk(data);
    const d = c && this.downloads.get(c.id);
    if (!c || !d) return;
    d.hash.update(c.payload);
    d.bytes += c.payload.length;
  }

  done(req: string): void {
    const d = this.downloads.get(req);
    if (!d) return;
    this.downloads.delete(req);
    d.held.hashes[d.slot] = d.hash.digest('hex');
    d.held.remaining--;
    this.flush(d.held.m.conv);
  }

  /** The server could not serve a download: the attachment is recorded as missing (empty hash). */
  failed(req: string): boolean {
    const d = this.downloads.get(req);
    if (!d) return false;
    this.downloads.delete(req);
    d.held.remaining--;
    this.flush(d.held.m.conv);
    return true;
  }

  private flush(conv: string): void {
    const q = this.byConv.get(conv);
    if (!q) return;
    while (q.length > 0 && (q[0] as Held).remaining === 0) this.handlers.message((q.shift() as Held).m);
    if (q.length === 0) this.byConv.delete(conv);
  }
}
