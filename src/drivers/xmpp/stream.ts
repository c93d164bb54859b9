/**
 * One XMPP stream over WebSocket (RFC 7395): every WebSocket message is one whole element
 * (`<open/>`, a stanza, `<close/>`), so each is parsed on its own with `ltx` (the XML library
 * @xmpp/* is built on) and no streaming parser is needed.
 *
 *   ws connect ─> <open/> ─> features ─> SASL PLAIN ─> restart (<open/>) ─> features
 *        ─> bind | <resume/> (XEP-0198) ─> stanzas both ways, counted for stream management
 *
 * Why not @xmpp/client: its stream management keeps and resends its own queue of unacknowledged
 * stanzas after a resume, while the runner resends every unacknowledged message itself (with its
 * attempt number): the same message would go out twice and the duplicates found would be the
 * harness's. Here the driver decides, per message, whether to resend.
 */
import WebSocket from 'ws';
import { Element, parse } from 'ltx';

/** Namespaces used by the driver. */
export const NS = {
  framing: 'urn:ietf:params:xml:ns:xmpp-framing',
  sasl: 'urn:ietf:params:xml:ns:xmpp-sasl',
  bind: 'urn:ietf:params:xml:ns:xmpp-bind',
  sm: 'urn:xmpp:sm:3',
  carbons: 'urn:xmpp:carbons:2',
  mam: 'urn:xmpp:mam:2',
  rsm: 'http://jabber.org/protocol/rsm',
  muc: 'http://jabber.org/protocol/muc',
  mucUser: 'http://jabber.org/protocol/muc#user',
  sid: 'urn:xmpp:sid:0',
  forward: 'urn:xmpp:forward:0',
  register: 'jabber:iq:register',
  data: 'jabber:x:data',
  client: 'jabber:client',
  upload: 'urn:xmpp:http:upload:0',
  oob: 'jabber:x:oob',
  markers: 'urn:xmpp:chat-markers:0',
  hints: 'urn:xmpp:hints',
} as const;

/** The stream failed: a protocol error, an auth failure, a timeout or the socket closed. */
export class XmppStreamError extends Error {
  constructor(
    message: string,
    /** The connection step reached when it failed. */
    readonly step: string,
    /** The peer did not answer in time (the stream was killed), as opposed to refusing or closing. */
    readonly timedOut = false,
  ) {
    super(message);
    this.name = 'XmppStreamError';
  }
}

const STANZAS = new Set(['message', 'presence', 'iq']);

/** Options of {@link XmppStream.open}. */
export interface StreamOptions {
  url: string;
  domain: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Told each connection step reached: `ws`, `open`, `auth`, `bind` / `resume`, ... */
  step?(name: string): void;
}

/**
 * A live XMPP stream. Setup awaits elements with {@link next}; once set up, `onElement` gets
 * every element that no waiter or pending IQ took. Stanza counters for stream management
 * (`inbound`, `outbound`) count only while `smCounting` is on.
 */
export class XmppStream {
  /** Every element nobody waited for (stanzas, SM requests and acks). */
  onElement: (el: Element) => void = () => {};
  /** The socket closed or failed (not called after {@link close} or {@link kill}). */
  onClose: (reason: string) => void = () => {};
  /** Count stanzas for XEP-0198 (on after `<enabled/>` or `<resumed/>`). */
  smCounting = false;
  /** Stanzas received while counting (the `h` we acknowledge). */
  inbound = 0;
  /** Stanzas sent while counting (what the server's `h` is compared with). */
  outbound = 0;
  /** The `h` we resume from (set before sending `<resume/>`): our inbound count of the old session. */
  resumeFrom = 0;
  /** The full JID after bind. */
  jid = '';
  private readonly waiters: { match: (el: Element) => boolean; resolve: (el: Element) => void }[] = [];
  private readonly iqs = new Map<string, (el: Element) => void>();
  private nextId = 0;
  private ended = false;
  private step = 'ws';

  private constructor(
    private readonly ws: WebSocket,
    private readonly o: StreamOptions,
  ) {
    ws.on('message', (data) => this.receive(String(data)));
    ws.on('close', (code) => this.end(`websocket closed (${code})`));
    ws.on('error', (err) => this.end(`websocket error: ${err.message}`));
  }

  /** Connect, open the stream and resolve with the first features. */
  static async open(o: StreamOptions): Promise<{ stream: XmppStream; features: Element }> {
    o.step?.('ws');
    const ws = new WebSocket(o.url, 'xmpp', { handshakeTimeout: o.timeoutMs });
    const s = new XmppStream(ws, o);
    // Stopped while opening: the socket goes too (left alone it would finish its handshake and
    // stay open), and whatever waits on it fails.
    let stopped: (() => void) | null = null;
    const stop = () => {
      stopped?.();
      s.kill();
    };
    o.signal?.addEventListener('abort', stop, { once: true });
    try {
      if (o.signal?.aborted) throw new XmppStreamError(`cannot open the WebSocket ${o.url}: stopped`, 'ws');
      await new Promise<void>((resolve, reject) => {
        const fail = (err: Error) => reject(new XmppStreamError(`cannot open the WebSocket ${o.url}: ${err.message}`, 'ws'));
        stopped = () => fail(new Error('stopped'));
        ws.once('open', () => {
          ws.off('error', fail);
          resolve();
        });
        ws.once('error', fail);
      });
      const features = await s.restart();
      return { stream: s, features };
    } catch (err) {
      s.kill();
      throw err;
    } finally {
      o.signal?.removeEventListener('abort', stop);
    }
  }

  /** Send `<open/>` (a new stream, or a restart after SASL) and resolve with the features. */
  async restart(): Promise<Element> {
    this.setStep('open');
    const opened = this.next((el) => el.getName() === 'features');
    this.sendRaw(`<open xmlns="${NS.framing}" to="${this.o.domain}" version="1.0"/>`);
    return opened;
  }

  /** SASL PLAIN (RFC 4616): the server must accept plain auth on this stream (loopback, no TLS). */
  async authenticate(user: string, password: string): Promise<void> {
    this.setStep('auth');
    const payload = Buffer.from(`\0${user}\0${password}`).toString('base64');
    const answer = this.next((el) => el.getNS() === NS.sasl && (el.getName() === 'success' || el.getName() === 'failure'));
    this.send(new Element('auth', { xmlns: NS.sasl, mechanism: 'PLAIN' }).t(payload));
    const el = await answer;
    if (el.getName() !== 'success') {
      const why = el.getChildElements()[0]?.getName() ?? 'unknown';
      throw new XmppStreamError(`SASL PLAIN failed for ${user}: ${why}`, 'auth');
    }
  }

  /** Bind a resource (RFC 6120 §7); resolves with the full JID. */
  async bind(resource: string): Promise<string> {
    this.setStep('bind');
    const res = await this.iq(new Element('iq', { type: 'set' }).c('bind', { xmlns: NS.bind }).c('resource').t(resource).root());
    this.jid = res.getChild('bind', NS.bind)?.getChildText('jid') ?? '';
    if (!this.jid) throw new XmppStreamError('bind answered without a JID', 'bind');
    return this.jid;
  }

  /**
   * Wait for the next element matching `match` (setup steps), failing on close, or on timeout
   * (default: the stream's `timeoutMs`) after which the stream is killed.
   */
  next(match: (el: Element) => boolean, timeoutMs = this.o.timeoutMs): Promise<Element> {
    return new Promise<Element>((resolve, reject) => {
      const timer = setTimeout(() => {
        remove();
        reject(new XmppStreamError(`no answer within ${timeoutMs} ms at step ${this.step}`, this.step, true));
        this.kill();
      }, timeoutMs);
      const waiter = {
        match,
        resolve: (el: Element) => {
          clearTimeout(timer);
          resolve(el);
        },
      };
      const remove = () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
      };
      this.waiters.push(waiter);
      this.failWaiter.set(waiter, (err) => {
        clearTimeout(timer);
        remove();
        reject(err);
      });
    });
  }
  private readonly failWaiter = new Map<object, (err: Error) => void>();

  /**
   * Send an IQ and resolve with its `result` (reject on `error`, on timeout, on close).
   * The id is assigned here.
   */
  iq(el: Element, timeoutMs = this.o.timeoutMs): Promise<Element> {
    const id = `q${++this.nextId}`;
    el.attrs.id = id;
    return new Promise<Element>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.iqs.delete(id);
        reject(new XmppStreamError(`IQ ${id} unanswered within ${timeoutMs} ms`, this.step));
      }, timeoutMs);
      this.iqs.set(id, (res) => {
        clearTimeout(timer);
        if (res.attrs.type === 'error') {
          const cond = res.getChild('error')?.getChildElements()[0]?.getName() ?? 'unknown';
          reject(new XmppStreamError(`IQ error: ${cond}`, this.step));
        } else resolve(res);
      });
      this.failIq.set(id, (err) => {
        clearTimeout(timer);
        reject(err);
      });
      this.send(el);
    });
  }
  private readonly failIq = new Map<string, (err: Error) => void>();

  /** A fresh id for a stanza. */
  id(prefix = 'm'): string {
    return `${prefix}${++this.nextId}`;
  }

  /** Send an element (counted as a stanza while `smCounting`). Never throws for a dead socket. */
  send(el: Element): void {
    if (STANZAS.has(el.name)) {
      // RFC 7395 §3.3.3: each top-level stanza carries its namespace (there is no stream root to inherit it from).
      if (el.attrs.xmlns === undefined) el.attrs.xmlns = NS.client;
      if (this.smCounting) this.outbound++;
    }
    this.sendRaw(el.toString());
  }

  get open(): boolean {
    return !this.ended && this.ws.readyState === WebSocket.OPEN;
  }

  /** Graceful close: `<close/>` then the WebSocket closing handshake. */
  close(): void {
    if (this.ended) return;
    this.ended = true;
    this.sendRaw(`<close xmlns="${NS.framing}"/>`);
    this.ws.close();
    this.failAll('closed');
  }

  /** Abrupt close, no handshake (a dropped phone). */
  kill(): void {
    if (this.ended) return;
    this.ended = true;
    this.ws.terminate();
    this.failAll('killed');
  }

  private setStep(step: string): void {
    this.step = step;
    this.o.step?.(step);
  }

  private sendRaw(s: string): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(s);
  }

  private receive(text: string): void {
    let el: Element;
    try {
      el = parse(text);
    } catch (err) {
      this.end(`unparsable frame: ${err instanceof Error ? err.message : String(err)}`);
      this.ws.terminate();
      return;
    }
    if (this.smCounting && STANZAS.has(el.name)) this.inbound++;
    // Start counting at once (XEP-0198 §4, §5), not in an awaiting continuation: frames that came
    // in the same TCP read (the server's resent queue after <resumed/>) are handled before it runs.
    if (el.getNS() === NS.sm && el.getName() === 'enabled') {
      this.smCounting = true;
      this.inbound = 0;
      this.outbound = 0;
    } else if (el.getNS() === NS.sm && el.getName() === 'resumed') {
      this.smCounting = true;
      this.inbound = this.resumeFrom;
      // What the server did not receive is resent by the runner as new stanzas: count from its h.
      this.outbound = Number(el.attrs.h ?? 0);
    }
    if (el.name === 'close' || el.name === 'stream:error') {
      const why = el.name === 'close' ? 'server closed the stream' : `stream error: ${el.getChildElements()[0]?.getName() ?? 'unknown'}`;
      this.end(why);
      this.ws.terminate();
      return;
    }
    if (el.name === 'iq' && (el.attrs.type === 'result' || el.attrs.type === 'error')) {
      const done = this.iqs.get(el.attrs.id ?? '');
      if (done) {
        this.iqs.delete(el.attrs.id ?? '');
        this.failIq.delete(el.attrs.id ?? '');
        done(el);
        return;
      }
    }
    for (let i = 0; i < this.waiters.length; i++) {
      const w = this.waiters[i]!;
      if (w.match(el)) {
        this.waiters.splice(i, 1);
        this.failWaiter.delete(w);
        w.resolve(el);
        return;
      }
    }
    this.onElement(el);
  }

  private end(reason: string): void {
    this.failAll(reason);
    if (this.ended) return;
    this.ended = true;
    this.onClose(reason);
  }

  private failAll(reason: string): void {
    const err = new XmppStreamError(reason, this.step);
    for (const fail of this.failWaiter.values()) fail(err);
    this.failWaiter.clear();
    this.waiters.length = 0;
    for (const fail of this.failIq.values()) fail(err);
    this.failIq.clear();
    this.iqs.clear();
  }
}
