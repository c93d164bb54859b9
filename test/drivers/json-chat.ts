/**
 * A second chat back end that really differs from the reference protocol, and its contract-v2
 * driver, to prove the contract is not shaped around the reference protocol. "Tiny chat":
 *
 *   - no per-conversation integers: a post has a server-assigned id (`p<n>`) and nothing else;
 *   - no client message ids, and no dedup: every post is stored, a resend too (the driver finds
 *     the harness key in the body with `decodeMarker`);
 *   - the sender's own post is echoed back to every device of every member, the sending device
 *     included: that echo is the only acknowledgement;
 *   - catch-up from an opaque position: `since` the last post id a device saw, every post of its
 *     conversations after it (its own included);
 *   - provisioning (`PUT /setup`, namespaced by run id) returns a session token per device, which
 *     the driver keeps in the run's context and presents on every connect.
 *
 *   device                                          tiny chat
 *     | -- GET /chat?session=TOKEN&since=ID (ws) ---> |
 *     | <------ post{old}* , ready ------------------ |
 *     | ------- post {conv, text} ------------------> |  -> post {conv, id, from, text} to every member device
 *     | ------- seen {conv, id} --------------------> |  -> badge {conv, count} to the account's devices
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { decodeMarker } from '../../src/drivers/marker.ts';
import { defineDriver, DRIVER_CONTRACT, type Connection, type ConnectOptions, type Driver, type ProvisionRequest } from '../../src/drivers/driver.ts';

interface Post {
  id: string;
  n: number;
  conv: string;
  from: string;
  account: string;
  text: string;
}

export interface TinyChat {
  url: string;
  /** Every post stored, for assertions. */
  posts(): number;
  /** Harness keys stored more than once (the back end's duplicates). */
  keysStoredTwice(): string[];
  close(): Promise<void>;
}

/** Start a tiny chat server on 127.0.0.1, port 0. */
export async function startTinyChat(): Promise<TinyChat> {
  const sessions = new Map<string, { device: string; account: string }>();
  const devicesOf = new Map<string, string[]>();
  const members = new Map<string, string[]>();
  const log: Post[] = [];
  const readUpTo = new Map<string, number>();
  const live = new Map<string, WebSocket>();

  const unread = (conv: string, account: string) => {
    const r = readUpTo.get(`${conv}\0${account}`) ?? 0;
    return log.filter((p) => p.conv === conv && p.n > r && p.account !== account).length;
  };
  const toAccount = (account: string, frame: object) => {
    for (const d of devicesOf.get(account) ?? []) live.get(d)?.send(JSON.stringify(frame));
  };
  const wire = (p: Post, old: boolean) => JSON.stringify({ op: 'post', conv: p.conv, id: p.id, from: p.from, text: p.text, ...(old ? { old } : {}) });

  const http: Server = createServer((req, res) => {
    if (req.method !== 'PUT' || req.url !== '/setup') {
      res.writeHead(404).end();
      return;
    }
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const setup = JSON.parse(body) as { run: string; users: Record<string, string>; convs: Record<string, string[]> };
      const tokens: Record<string, string> = {};
      for (const [device, account] of Object.entries(setup.users)) {
        const token = `${setup.run}/${device}/${sessions.size + 1}`;
        sessions.set(token, { device, account });
        tokens[device] = token;
        devicesOf.set(account, [...(devicesOf.get(account) ?? []), device]);
      }
      for (const [conv, m] of Object.entries(setup.convs)) members.set(conv, m);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ tokens }));
    });
  });
  const wss = new WebSocketServer({ server: http, path: '/chat' });
  wss.on('connection', (ws, req) => {
    const q = new URL(req.url ?? '', 'http://x').searchParams;
    const session = sessions.get(q.get('session') ?? '');
    if (!session) {
      ws.close(4000, 'who are you');
      return;
    }
    const { device, account } = session;
    live.get(device)?.terminate();
    live.set(device, ws);
    const mine = new Set([...members].filter(([, m]) => m.includes(account)).map(([c]) => c));
    const since = Number((q.get('since') ?? 'p0').slice(1));
    for (const p of log) if (p.n > since && mine.has(p.conv)) ws.send(wire(p, true));
    ws.send(JSON.stringify({ op: 'ready' }));
    ws.on('close', () => {
      if (live.get(device) === ws) live.delete(device);
    });
    ws.on('message', (data) => {
      const f = JSON.parse(String(data)) as { op: string; conv: string; id?: string; text?: string };
      if (f.op === 'post') {
        if (!members.get(f.conv)?.includes(account)) return;
        const p: Post = { id: `p${log.length + 1}`, n: log.length + 1, conv: f.conv, from: device, account, text: f.text ?? '' };
        log.push(p);
        for (const m of members.get(f.conv) ?? []) {
          toAccount(m, JSON.parse(wire(p, false)) as object);
          if (m !== account) toAccount(m, { op: 'badge', conv: f.conv, count: unread(f.conv, m) });
        }
      } else if (f.op === 'seen') {
        const key = `${f.conv}\0${account}`;
        readUpTo.set(key, Math.max(readUpTo.get(key) ?? 0, Number((f.id ?? 'p0').slice(1))));
        toAccount(account, { op: 'badge', conv: f.conv, count: unread(f.conv, account) });
      }
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const { port } = http.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}`,
    posts: () => log.length,
    keysStoredTwice: () => {
      const seen = new Map<string, number>();
      for (const p of log) {
        const key = decodeMarker(p.text)?.key;
        if (key !== undefined) seen.set(key, (seen.get(key) ?? 0) + 1);
      }
      return [...seen].filter(([, n]) => n > 1).map(([k]) => k);
    },
    close: async () => {
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
}

/** Any frame tiny chat sends (fields by `op`). */
interface TinyFrame {
  op: 'ready' | 'post' | 'badge';
  conv: string;
  id: string;
  from: string;
  text: string;
  old?: boolean;
  count: number;
}

/** What `provision` returns: each device's session token. */
interface TinyContext {
  tokens: Readonly<Record<string, string>>;
}

/**
 * A device's state across its connections: its own posts known stored (key -> post id), so a
 * resend after a reconnect is skipped when the catch-up replay showed the post was stored; and
 * the last post id it saw in each conversation (what it marks read).
 */
interface TinyDeviceState {
  stored: Map<string, string>;
  lastInConv: Map<string, string>;
}

/**
 * The driver for tiny chat. `dedupe: false` resends blindly after a reconnect (a client without
 * any resumption): the back end then stores the message twice, and the duplicates check says so.
 */
export function tinyChatDriver(options: { dedupe?: boolean } = {}): Driver<TinyContext, TinyDeviceState> {
  const dedupe = options.dedupe ?? true;
  return defineDriver<TinyContext, TinyDeviceState>({
    contract: DRIVER_CONTRACT,
    name: dedupe ? 'tiny-chat' : 'tiny-chat (no dedup)',
    capabilities: {
      ordering: 'none',
      serverIds: 'global',
      kinds: ['text', 'emoji', 'long-text'],
      attachments: false,
      historyPages: false,
      unreadCounts: true,
      readMarkers: true,
      groups: true,
      clientIds: false,
      resumption: dedupe,
    },
    limits: { maxBodyBytes: 16 * 1024, maxAttachmentBytes: 0, maxAttachmentsPerMessage: 0 },

    async provision({ runId, url, accounts, conversations }: ProvisionRequest): Promise<TinyContext> {
      const users = Object.fromEntries(accounts.flatMap((a) => a.devices.map((d) => [d.id, a.id])));
      const convs = Object.fromEntries(conversations.map((c) => [c.id, c.members]));
      const res = await fetch(`${url.replace(/^ws/, 'http')}/setup`, { method: 'PUT', body: JSON.stringify({ run: runId, users, convs }) });
      if (!res.ok) throw new Error(`tiny chat setup failed: HTTP ${res.status}`);
      return (await res.json()) as TinyContext;
    },

    deviceState: () => ({ stored: new Map(), lastInConv: new Map() }),

    connect(opts: ConnectOptions<TinyContext, TinyDeviceState>): Promise<Connection> {
      const { handlers, state, identity } = opts;
      const token = opts.context.tokens[identity.device] ?? '';
      const since = typeof opts.position === 'string' ? opts.position : 'p0';
      const ws = new WebSocket(`${opts.url}/chat?session=${encodeURIComponent(token)}&since=${since}`);
      let live = false;
      let ours = false;
      return new Promise<Connection>((resolve, reject) => {
        const timer = setTimeout(() => ws.terminate(), opts.timeoutMs);
        const conn: Connection = {
          send: (m, attempt) => {
            const known = state.stored.get(m.key);
            if (dedupe && attempt > 1 && known !== undefined) {
              // Stored already (the catch-up showed our own post): acknowledge instead of resending.
              handlers.ack({ key: m.key, conv: m.conv, id: known });
              return;
            }
            ws.send(JSON.stringify({ op: 'post', conv: m.conv, text: m.body }));
          },
          markRead: (conv) => {
            const id = state.lastInConv.get(conv);
            if (id === undefined) return undefined;
            ws.send(JSON.stringify({ op: 'seen', conv, id }));
            return id;
          },
          close: () => {
            ours = true;
            ws.close();
          },
          kill: () => {
            ours = true;
            ws.terminate();
          },
        };
        ws.on('message', (data) => {
          const f = JSON.parse(String(data)) as TinyFrame;
          switch (f.op) {
            case 'ready':
              clearTimeout(timer);
              live = true;
              resolve(conn);
              break;
            case 'post': {
              const marker = decodeMarker(f.text);
              state.lastInConv.set(f.conv, f.id);
              handlers.position(f.id);
              if (!marker) break;
              if (f.from === identity.device) {
                // Our own post, echoed (live or in the catch-up): the acknowledgement. A client
                // without dedup ignores its own posts in the catch-up, and resends them.
                if (f.old === true && !dedupe) break;
                if (!state.stored.has(marker.key)) {
                  state.stored.set(marker.key, f.id);
                  handlers.ack({ key: marker.key, conv: f.conv, id: f.id });
                }
                break;
              }
              handlers.message({ key: marker.key, conv: f.conv, id: f.id, from: f.from, kind: 'text', replay: f.old === true });
              break;
            }
            case 'badge':
              handlers.unread({ conv: f.conv, count: f.count });
              break;
          }
        });
        ws.on('error', (err) => {
          if (!live) reject(err);
        });
        ws.on('close', (code) => {
          clearTimeout(timer);
          if (!live) reject(new Error(`tiny chat closed ${code} before ready`));
          else if (!ours) handlers.closed(`closed ${code}`);
        });
      });
    },
  });
}
