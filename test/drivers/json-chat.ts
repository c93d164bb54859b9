/**
 * A second, deliberately different chat back end and its driver, to prove the driver interface
 * is not shaped around the reference protocol. "Tiny chat" speaks JSON over one WebSocket with
 * `op` fields, has no client message ids (the driver finds the harness key in the body with
 * `decodeMarker`), is provisioned by `PUT /setup`, and tells a device its unread count as a
 * `badge`. It keeps everything in memory and does no dedup.
 *
 *   device                               tiny chat
 *     | -- GET /chat?user=DEVICE (ws) ---> |
 *     | <------ hello {last: conv->seq} -- |
 *     | ------- since {conv->seq} -------> |
 *     | <------ post{old}* , ready ------- |
 *     | ------- post {conv, text} -------> |  -> posted {conv, seq, id, text} to the sender
 *     |                                    |  -> post {conv, seq, id, from, text} to the others
 *     | ------- seen {conv, seq} --------> |  -> badge {conv, count} to the account's devices
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { decodeMarker } from '../../src/drivers/marker.ts';
import type { Connection, ConnectOptions, Driver, HistoryPage } from '../../src/drivers/driver.ts';
import type { PlannedAccount, PlannedConversation } from '../../src/plan/plan.ts';

interface Post {
  id: string;
  seq: number;
  from: string;
  account: string;
  text: string;
}

export interface TinyChat {
  url: string;
  /** Every post stored, for assertions. */
  posts(): number;
  close(): Promise<void>;
}

/** Start a tiny chat server on 127.0.0.1, port 0. */
export async function startTinyChat(): Promise<TinyChat> {
  const accountOf = new Map<string, string>();
  const devicesOf = new Map<string, string[]>();
  const members = new Map<string, string[]>();
  const logs = new Map<string, Post[]>();
  const readSeq = new Map<string, number>();
  const live = new Map<string, WebSocket>();
  let nextId = 1;
  let total = 0;

  const unread = (conv: string, account: string) => {
    const r = readSeq.get(`${conv}\0${account}`) ?? 0;
    return (logs.get(conv) ?? []).filter((p) => p.seq > r && p.account !== account).length;
  };
  const toAccount = (account: string, frame: object) => {
    for (const d of devicesOf.get(account) ?? []) live.get(d)?.send(JSON.stringify(frame));
  };

  const http: Server = createServer((req, res) => {
    if (req.method !== 'PUT' || req.url !== '/setup') {
      res.writeHead(404).end();
      return;
    }
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const setup = JSON.parse(body) as { users: Record<string, string>; convs: Record<string, string[]> };
      for (const [device, account] of Object.entries(setup.users)) {
        accountOf.set(device, account);
        devicesOf.set(account, [...(devicesOf.get(account) ?? []), device]);
      }
      for (const [conv, m] of Object.entries(setup.convs)) {
        members.set(conv, m);
        if (!logs.has(conv)) logs.set(conv, []);
      }
      res.writeHead(204).end();
    });
  });
  const wss = new WebSocketServer({ server: http, path: '/chat' });
  wss.on('connection', (ws, req) => {
    const device = new URL(req.url ?? '', 'http://x').searchParams.get('user') ?? '';
    const account = accountOf.get(device);
    if (!account) {
      ws.close(4000, 'who are you');
      return;
    }
    live.get(device)?.terminate();
    live.set(device, ws);
    const mine = [...members].filter(([, m]) => m.includes(account)).map(([c]) => c);
    ws.send(JSON.stringify({ op: 'hello', last: Object.fromEntries(mine.map((c) => [c, logs.get(c)?.length ?? 0])) }));
    ws.on('close', () => {
      if (live.get(device) === ws) live.delete(device);
    });
    ws.on('message', (data) => {
      const f = JSON.parse(String(data)) as { op: string; conv: string; seq?: number; text?: string; since?: Record<string, number> };
      if (f.op === 'since') {
        for (const [conv, seq] of Object.entries(f.since ?? {})) {
          for (const p of (logs.get(conv) ?? []).slice(seq)) ws.send(JSON.stringify({ op: 'post', conv, ...p, old: true }));
        }
        ws.send(JSON.stringify({ op: 'ready' }));
      } else if (f.op === 'post') {
        const log = logs.get(f.conv);
        if (!log || !members.get(f.conv)?.includes(account)) return;
        const p: Post = { id: `p${nextId++}`, seq: log.length + 1, from: device, account, text: f.text ?? '' };
        log.push(p);
        total++;
        ws.send(JSON.stringify({ op: 'posted', conv: f.conv, seq: p.seq, id: p.id, text: p.text }));
        for (const m of members.get(f.conv) ?? []) {
          for (const d of devicesOf.get(m) ?? []) if (d !== device) live.get(d)?.send(JSON.stringify({ op: 'post', conv: f.conv, ...p }));
          if (m !== account) toAccount(m, { op: 'badge', conv: f.conv, count: unread(f.conv, m) });
        }
      } else if (f.op === 'seen') {
        const key = `${f.conv}\0${account}`;
        const last = logs.get(f.conv)?.length ?? 0;
        readSeq.set(key, Math.max(readSeq.get(key) ?? 0, Math.min(f.seq ?? 0, last)));
        toAccount(account, { op: 'badge', conv: f.conv, count: unread(f.conv, account) });
      }
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const { port } = http.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}`,
    posts: () => total,
    close: async () => {
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
}

/** Any frame tiny chat sends (fields by `op`). */
interface TinyFrame {
  op: 'hello' | 'ready' | 'posted' | 'post' | 'badge';
  last: Record<string, number>;
  conv: string;
  seq: number;
  id: string;
  from: string;
  text: string;
  old?: boolean;
  count: number;
}

/** The driver for tiny chat: keys travel inside the message text as the harness marker. */
export const tinyChatDriver: Driver = {
  name: 'tiny-chat',

  async provision(url: string, accounts: readonly PlannedAccount[], conversations: readonly PlannedConversation[]) {
    const users = Object.fromEntries(accounts.flatMap((a) => a.devices.map((d) => [d.id, a.id])));
    const convs = Object.fromEntries(conversations.map((c) => [c.id, c.members]));
    const res = await fetch(`${url.replace(/^ws/, 'http')}/setup`, { method: 'PUT', body: JSON.stringify({ users, convs }) });
    if (!res.ok) throw new Error(`tiny chat setup failed: HTTP ${res.status}`);
  },

  connect(opts: ConnectOptions): Promise<Connection> {
    const { handlers } = opts;
    const ws = new WebSocket(`${opts.url}/chat?user=${encodeURIComponent(opts.identity.device)}`);
    const serverCursors = new Map<string, number>();
    let live = false;
    let ours = false;
    return new Promise<Connection>((resolve, reject) => {
      const timer = setTimeout(() => ws.terminate(), opts.timeoutMs);
      const conn: Connection = {
        serverCursors,
        send: (m) => {
          const text = JSON.stringify({ op: 'post', conv: m.conv, text: m.body });
          ws.send(text);
          return Buffer.byteLength(text);
        },
        markRead: (conv, seq) => ws.send(JSON.stringify({ op: 'seen', conv, seq })),
        history: (): Promise<HistoryPage> => Promise.reject(new Error('tiny chat has no history paging')),
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
          case 'hello': {
            const since: Record<string, number> = {};
            for (const [conv, last] of Object.entries(f.last)) {
              serverCursors.set(conv, last);
              since[conv] = opts.cursors.get(conv) ?? last;
            }
            ws.send(JSON.stringify({ op: 'since', since }));
            break;
          }
          case 'ready':
            clearTimeout(timer);
            live = true;
            resolve(conn);
            break;
          case 'posted': {
            const marker = decodeMarker(f.text);
            if (marker) handlers.ack({ key: marker.key, conv: f.conv, id: f.id, seq: f.seq });
            break;
          }
          case 'post': {
            const marker = decodeMarker(f.text);
            if (marker) handlers.message({ key: marker.key, conv: f.conv, id: f.id, seq: f.seq, from: f.from, kind: 'text', replay: f.old === true });
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
};
