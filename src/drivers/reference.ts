/**
 * The reference driver: speaks the reference protocol (`docs/protocol.md`) over `ws`. The key of
 * a message travels as the protocol's client id (`cid`), so it comes back on acks and on every
 * delivered copy.
 */
import WebSocket from 'ws';
import type { ClientFrame, ServerFrame, ProvisionRequest } from '../protocol/frames.ts';
import type { Connection, ConnectOptions, Driver, HistoryPage, HistoryRequest } from './driver.ts';
import type { PlannedAccount, PlannedConversation } from '../plan/plan.ts';
import { UnreachableError, ChatstormError } from '../errors.ts';

/** The server answered provisioning with an error. */
export class ProvisionError extends ChatstormError {
  constructor(message: string) {
    super('CHATSTORM_ERR_PROVISION', message);
  }
}

function httpBase(url: string): string {
  return url.replace(/^ws(s?):\/\//, 'http$1://').replace(/\/+$/, '');
}

export const referenceDriver: Driver = {
  name: 'reference',

  async provision(url: string, accounts: readonly PlannedAccount[], conversations: readonly PlannedConversation[]) {
    const body: ProvisionRequest = {
      accounts: accounts.map((a) => ({ id: a.id, role: a.role, devices: a.devices.map((d) => ({ id: d.id, token: d.token })) })),
      conversations: conversations.map((c) => ({ id: c.id, kind: c.kind, members: c.members })),
    };
    const target = `${httpBase(url)}/admin/provision`;
    let res: Response;
    try {
      res = await fetch(target, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      throw new UnreachableError(
        'chat server',
        url,
        'Start one with `chatstorm serve --port P` and pass `--target ws://127.0.0.1:P`, or omit --target to let chatstorm start its own.',
        { cause: err },
      );
    }
    if (!res.ok) throw new ProvisionError(`provisioning at ${target} failed: HTTP ${res.status} ${await res.text()}`);
  },

  connect(opts: ConnectOptions): Promise<Connection> {
    const { identity, handlers } = opts;
    const q = new URLSearchParams({ device: identity.device, token: identity.token });
    const ws = new WebSocket(`${opts.url.replace(/\/+$/, '')}/ws?${q}`, { perMessageDeflate: false, handshakeTimeout: opts.timeoutMs });
    const serverCursors = new Map<string, number>();
    const pendingPages = new Map<string, { resolve: (p: HistoryPage) => void; reject: (e: Error) => void }>();
    let nextReq = 1;
    let live = false;
    let closedByUs = false;
    const frame = (f: ClientFrame) => {
      const text = JSON.stringify(f);
      ws.send(text);
      return Buffer.byteLength(text);
    };

    return new Promise<Connection>((resolve, reject) => {
      let awaitingSync = new Set<string>();
      const timer = setTimeout(() => fail(new Error(`connect timed out after ${opts.timeoutMs} ms`)), opts.timeoutMs);
      const fail = (err: Error) => {
        clearTimeout(timer);
        if (!live) {
          ws.terminate();
          reject(err);
        }
      };
      const goLive = () => {
        clearTimeout(timer);
        live = true;
        resolve(conn);
      };
      const conn: Connection = {
        serverCursors,
        send: (m) => frame({ t: 'send', cid: m.key, conv: m.conv, kind: m.kind, body: m.body }),
        markRead: (conv, seq) => void frame({ t: 'read', conv, seq }),
        history: (req: HistoryRequest) =>
          new Promise<HistoryPage>((res, rej) => {
            const id = String(nextReq++);
            pendingPages.set(id, { resolve: res, reject: rej });
            frame({ t: 'history', req: id, conv: req.conv, before: req.before, after: req.after, limit: req.limit });
          }),
        close: () => {
          closedByUs = true;
          ws.close(1000, 'done');
        },
        kill: () => {
          closedByUs = true;
          ws.terminate();
        },
      };

      ws.on('message', (data, isBinary) => {
        if (isBinary) return;
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
              cursors[c.conv] = opts.cursors.get(c.conv) ?? c.lastSeq;
            }
            awaitingSync = new Set(Object.keys(cursors));
            frame({ t: 'sync', cursors });
            if (awaitingSync.size === 0) goLive();
            break;
          }
          case 'synced':
            if (awaitingSync.delete(f.conv) && awaitingSync.size === 0 && !live) goLive();
            break;
          case 'msg':
            handlers.message({ key: f.cid, conv: f.conv, id: f.id, seq: f.seq, from: f.from.device, kind: f.kind, replay: f.replay === true });
            break;
          case 'ack':
            handlers.ack({ key: f.cid, conv: f.conv, id: f.id, seq: f.seq });
            break;
          case 'nack':
            handlers.nack({ key: f.cid, conv: f.conv, code: f.code, retryAfterMs: f.retryAfterMs });
            break;
          case 'unread':
            handlers.unread({ conv: f.conv, count: f.count });
            break;
          case 'page': {
            const p = pendingPages.get(f.req);
            if (p) {
              pendingPages.delete(f.req);
              p.resolve({ messages: f.messages.map((m) => ({ key: m.cid, seq: m.seq, id: m.id })), hasMore: f.hasMore });
            }
            break;
          }
          case 'error': {
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
        const why = `closed ${code}${reason.length ? ' ' + reason.toString() : ''}`;
        for (const p of pendingPages.values()) p.reject(new Error(`connection ${why}`));
        pendingPages.clear();
        if (!live) fail(new Error(`connection ${why} before it was live`));
        else if (!closedByUs) handlers.closed(why);
      });
    });
  },
};
