/**
 * Test helper: a raw WebSocket device that records every frame, plus provisioning fixtures.
 * Not a test file itself (vitest includes only *.test.ts).
 */
import { WebSocket } from 'ws';
import type { ProvisionRequest, ServerFrame } from '../../src/protocol/frames.ts';

export type Frame = ServerFrame & Record<string, unknown>;

export class RawClient {
  readonly frames: Frame[] = [];
  readonly binary: Buffer[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) this.binary.push(Buffer.from(data));
      else this.frames.push(JSON.parse(data.toString('utf8')) as Frame);
      for (const w of this.waiters.splice(0)) w();
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        for (const w of this.waiters.splice(0)) w();
      });
    });
    ws.on('error', () => {});
  }

  /** Connect; resolves once the socket is open (the welcome may still be on its way). */
  static connect(baseUrl: string, device: string, token: string, opts: { maxPayload?: number } = {}): Promise<RawClient> {
    const ws = new WebSocket(`${baseUrl}/ws?device=${encodeURIComponent(device)}&token=${encodeURIComponent(token)}`, {
      maxPayload: opts.maxPayload ?? 64 * 1024 * 1024,
    });
    const c = new RawClient(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(c));
      ws.once('error', reject);
    });
  }

  /** Connect, wait for welcome, sync with the given cursors (default: every conv at its lastSeq) and wait for every synced. */
  static async live(baseUrl: string, device: string, token: string, cursors?: Record<string, number>): Promise<RawClient> {
    const c = await RawClient.connect(baseUrl, device, token);
    const welcome = await c.waitFor((f) => f.t === 'welcome');
    const cur = cursors ?? Object.fromEntries((welcome.convs as { conv: string; lastSeq: number }[]).map((x) => [x.conv, x.lastSeq]));
    c.send({ t: 'sync', cursors: cur });
    for (const conv of Object.keys(cur)) await c.waitFor((f) => f.t === 'synced' && f.conv === conv);
    return c;
  }

  send(frame: unknown): void {
    this.ws.send(JSON.stringify(frame));
  }
  sendText(text: string): void {
    this.ws.send(text);
  }

  /** The first recorded frame matching `pred`, waiting up to `timeoutMs` for it. */
  waitFor(pred: (f: Frame) => boolean, timeoutMs = 3000): Promise<Frame> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames).slice(0, 1500)}`));
      }, timeoutMs);
      const check = (): void => {
        const f = this.frames.find(pred);
        if (f) {
          clearTimeout(timer);
          resolve(f);
        } else if (this.ws.readyState === WebSocket.CLOSED) {
          clearTimeout(timer);
          reject(new Error(`socket closed before a matching frame; got ${JSON.stringify(this.frames).slice(0, 1500)}`));
        } else this.waiters.push(check);
      };
      check();
    });
  }

  /** Recorded frames matching `pred`. */
  all(pred: (f: Frame) => boolean): Frame[] {
    return this.frames.filter(pred);
  }

  /** A round trip through the server: every frame sent before it has been handled and answered. */
  async settle(): Promise<void> {
    const ts = Math.random();
    this.send({ t: 'ping', ts });
    await this.waitFor((f) => f.t === 'pong' && f.ts === ts);
  }

  close(): void {
    this.ws.terminate();
  }
}

/** Wait `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** POST a JSON body to the server's HTTP side. */
export async function postJson(baseUrl: string, path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(baseUrl.replace(/^ws/, 'http') + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/**
 * Fixture: agent A (devices a1, a2), customer C (c1), customer X (x1).
 * Conversations: `ac` direct [A, C]; `grp` group [A, C, X].
 */
export const FIXTURE: ProvisionRequest = {
  accounts: [
    { id: 'A', role: 'agent', devices: [{ id: 'a1', token: 'ta1' }, { id: 'a2', token: 'ta2' }] },
    { id: 'C', role: 'customer', devices: [{ id: 'c1', token: 'tc1' }] },
    { id: 'X', role: 'customer', devices: [{ id: 'x1', token: 'tx1' }] },
  ],
  conversations: [
    { id: 'ac', kind: 'direct', members: ['A', 'C'] },
    { id: 'grp', kind: 'group', members: ['A', 'C', 'X'] },
  ],
};

export const TOKENS: Record<string, string> = { a1: 'ta1', a2: 'ta2', c1: 'tc1', x1: 'tx1' };

/** Tracks clients so afterEach can close them all. */
export class ClientPool {
  private readonly clients: RawClient[] = [];
  async live(url: string, device: string, cursors?: Record<string, number>): Promise<RawClient> {
    const c = await RawClient.live(url, device, TOKENS[device] ?? '', cursors);
    this.clients.push(c);
    return c;
  }
  async connect(url: string, device: string, token = TOKENS[device] ?? ''): Promise<RawClient> {
    const c = await RawClient.connect(url, device, token);
    this.clients.push(c);
    return c;
  }
  closeAll(): void {
    for (const c of this.clients.splice(0)) c.close();
  }
}
