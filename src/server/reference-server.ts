/**
 * `startReferenceServer`: HTTP (health, admin) and WebSocket (`/ws`) on one port.
 *
 *   TCP :port --> http.Server --request--> [server token on /admin/*] --> admin-http.ts
 *                      \--upgrade /ws?device&token--> [server token] --> device auth
 *                                                   --> ChatHub.attach (else close 4401)
 *
 * The server token is required only when one is set: always beyond loopback (server-token.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { CloseCode } from '../protocol/frames.ts';
import { adminHandler } from './admin-http.ts';
import { ChatHub } from './chat-hub.ts';
import { Defects } from './defects.ts';
import { MemoryStore } from './memory-store.ts';
import { resolveServerOptions, type ReferenceServerOptions, type ResolvedServerOptions } from './options.ts';
import { ServerListenError } from './server-errors.ts';
import { TokenGate } from './server-token.ts';
import { SqliteStore } from './sqlite-store.ts';
import type { Store } from './store.ts';

/** A running reference server. */
export interface ReferenceServer {
  /** `ws://HOST:PORT`, without a path (the WebSocket endpoint is `${url}/ws`). */
  readonly url: string;
  readonly port: number;
  /** The store (for tests and preloading in-process). */
  readonly store: Store;
  /**
   * The server token admin calls and devices must present (`Authorization: Bearer`), or `null`
   * when none is required (loopback host, no `token` option).
   */
  readonly token: string | null;
  /** How many times each defect fired so far. */
  readonly defectsFired: ReadonlyMap<string, number>;
  /** Close every connection (1001), stop listening, close the store. Idempotent. */
  close(): Promise<void>;
}

/** Start a reference chat server. Options are validated first ({@link InvalidServerOptionsError}). */
export async function startReferenceServer(opts: ReferenceServerOptions = {}): Promise<ReferenceServer> {
  const o = resolveServerOptions(opts);
  const { store, cleanup } = openStore(o);
  const defects = new Defects(o.defects, o.defectRate, o.seed);
  const hub = new ChatHub(store, defects, o);
  const gate = o.token === null ? null : new TokenGate(o.token);
  const http = createServer(adminHandler(store, hub, defects, o.log, gate));
  const wss = new WebSocketServer({ noServer: true, maxPayload: o.maxFrameBytes, perMessageDeflate: false });

  http.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/ws') {
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      closeOversizedWith4413(ws, o.maxFrameBytes);
      ws.on('error', (err) => o.log(`websocket error: ${err.message}`));
      if (gate && !gate.accepts(TokenGate.presented(req, url, true))) {
        ws.close(CloseCode.unauthorized, 'server token required: send "Authorization: Bearer <token>" or the query parameter key=<token>');
        return;
      }
      const deviceId = url.searchParams.get('device');
      const token = url.searchParams.get('token');
      const device = deviceId ? store.device(deviceId) : undefined;
      if (!device || token === null || device.token !== token) {
        ws.close(CloseCode.unauthorized, deviceId ? 'unknown device or wrong token' : 'missing device or token query parameter');
        return;
      }
      hub.attach(ws, socket, device);
    });
  });

  try {
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(o.port, o.host, () => {
        http.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    store.close();
    cleanup();
    throw new ServerListenError(o.host, o.port, { cause: err });
  }
  const port = (http.address() as AddressInfo).port;
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  o.log(
    `listening on ws://${host}:${port} (store ${o.store}${o.defects.length ? `, defects ${o.defects.join(',')} at ${o.defectRate}` : ''}` +
      `${o.token === null ? '' : ', server token required'})`,
  );

  let closing: Promise<void> | undefined;
  return {
    url: `ws://${host}:${port}`,
    port,
    store,
    token: o.token,
    defectsFired: defects.fired,
    close() {
      closing ??= shutdown(http, wss, hub).then(() => {
        store.close();
        cleanup();
      });
      return closing;
    },
  };
}

function openStore(o: ResolvedServerOptions): { store: Store; cleanup: () => void } {
  if (o.store === 'memory') return { store: new MemoryStore(), cleanup: () => {} };
  if (o.dbPath) return { store: new SqliteStore(o.dbPath), cleanup: () => {} };
  const dir = mkdtempSync(join(tmpdir(), 'chatstorm-server-'));
  return { store: new SqliteStore(join(dir, 'chat.db')), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

async function shutdown(http: Server, wss: WebSocketServer, hub: ChatHub): Promise<void> {
  hub.closeAll(CloseCode.goingAway, 'server shutting down');
  const closed = new Promise<void>((resolve) => http.close(() => resolve()));
  // Give close frames a moment to go out, then drop whatever is left.
  await new Promise((r) => setTimeout(r, 20));
  for (const ws of wss.clients) ws.terminate();
  http.closeAllConnections();
  wss.close();
  await closed;
}

/**
 * ws checks a frame's length from its header, before buffering it, and closes with 1009.
 * The reference protocol says 4413: answer first, so ws's own close(1009) finds the
 * connection already closing and does nothing. (Relies on ws 8's `_receiver` emitting 'error'
 * with code WS_ERR_UNSUPPORTED_MESSAGE_LENGTH; if that changes, clients see 1009 instead.)
 */
function closeOversizedWith4413(ws: WebSocket, maxFrameBytes: number): void {
  const receiver = (ws as unknown as { _receiver?: NodeJS.EventEmitter })._receiver;
  receiver?.prependListener('error', (err: { code?: string }) => {
    if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
      ws.close(CloseCode.frameTooLarge, `frame larger than ${maxFrameBytes} bytes`);
    }
  });
}
