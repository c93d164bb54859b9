/**
 * The HTTP side of the server's one port: health and admin endpoints. With a server token (any
 * host beyond loopback), every `/admin/*` call must carry `Authorization: Bearer <token>`, else
 * 401; on loopback without a token they are open. Every answer is JSON; a bad body gets 400 with
 * a message naming the field.
 *
 *   GET  /health           -> 200 {"ok":true}
 *   POST /admin/provision  -> 200 {"ok":true}            idempotent upsert
 *   POST /admin/preload    -> 200 {"ok":true, count, firstSeq, lastSeq, elapsedMs}
 *   GET  /admin/stats      -> 200 {"ok":true, connections, defectsFired}
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parsePreloadRequest, parseProvisionRequest } from './admin-schema.ts';
import type { ChatHub } from './chat-hub.ts';
import type { Defects } from './defects.ts';
import { ProvisionConflictError, UnknownConversationError } from './server-errors.ts';
import { TokenGate } from './server-token.ts';
import type { Store } from './store.ts';

/** Largest admin body (a provision of many thousands of accounts fits). */
const MAX_ADMIN_BODY_BYTES = 64 * 1024 * 1024;

/** The HTTP request handler of the server's port (everything but the WebSocket upgrade). */
export function adminHandler(store: Store, hub: ChatHub, defects: Defects, log: (line: string) => void, gate: TokenGate | null = null) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method === 'GET' && path === '/health') return reply(res, 200, { ok: true });
    if (gate && path.startsWith('/admin/') && !gate.accepts(TokenGate.presented(req, new URL('http://x'), false))) {
      // Drain the body so the connection stays usable for the next (authorized) call.
      req.resume();
      res.setHeader('www-authenticate', 'Bearer realm="chatstorm"');
      return reply(res, 401, {
        ok: false,
        error: 'server token required: send "Authorization: Bearer <token>" (printed by `chatstorm serve`; see docs/protocol.md §1)',
      });
    }
    if (req.method === 'GET' && path === '/admin/stats') {
      return reply(res, 200, { ok: true, connections: hub.connectionCount, defectsFired: Object.fromEntries(defects.fired) });
    }
    if (req.method === 'POST' && (path === '/admin/provision' || path === '/admin/preload')) {
      readJson(req)
        .then((body) => {
          if (body.state === 'invalid') return reply(res, body.status, { ok: false, error: body.message });
          if (path === '/admin/provision') {
            const p = parseProvisionRequest(body.value);
            if (p.state === 'invalid') return reply(res, 400, { ok: false, error: p.message });
            store.provision(p.value);
            return reply(res, 200, { ok: true });
          }
          const p = parsePreloadRequest(body.value);
          if (p.state === 'invalid') return reply(res, 400, { ok: false, error: p.message });
          const result = store.preload(p.value);
          log(`preloaded ${result.count} messages into ${result.conv} in ${Math.round(result.elapsedMs)} ms`);
          return reply(res, 200, { ok: true, ...result });
        })
        .catch((err: unknown) => {
          if (err instanceof ProvisionConflictError) return reply(res, 409, { ok: false, error: err.message });
          if (err instanceof UnknownConversationError) return reply(res, 404, { ok: false, error: err.message });
          log(`admin ${path} failed: ${String(err)}`);
          return reply(res, 500, { ok: false, error: String(err) });
        });
      return;
    }
    reply(res, 404, { ok: false, error: `no route ${req.method ?? '?'} ${path ?? ''}; see docs/protocol.md` });
  };
}

type Body = { state: 'ok'; value: unknown } | { state: 'invalid'; status: number; message: string };

function readJson(req: IncomingMessage): Promise<Body> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_ADMIN_BODY_BYTES) tooLarge = true;
      else chunks.push(c);
    });
    req.on('error', reject);
    req.on('end', () => {
      if (tooLarge) {
        resolve({ state: 'invalid', status: 413, message: `body must be at most ${MAX_ADMIN_BODY_BYTES} bytes, got ${size}` });
        return;
      }
      try {
        resolve({ state: 'ok', value: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      } catch (err) {
        resolve({ state: 'invalid', status: 400, message: `body is not valid JSON: ${err instanceof Error ? err.message : String(err)}` });
      }
    });
  });
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
