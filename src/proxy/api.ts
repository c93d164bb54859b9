import type { IncomingMessage, ServerResponse } from 'node:http';
import { apiErrors, ToxiproxyApiError } from './errors.ts';
import type { ProxyCollection } from './proxy-collection.ts';
import { parseJsonBody } from './request-body.ts';
import { parseToxicCreate, parseToxicUpdate } from './toxic-input.ts';
import { toxicJson } from './toxic-spec.ts';

/** The Toxiproxy release whose HTTP API this server follows; reported by `GET /version`. */
export const TOXIPROXY_API_VERSION = '2.12.0';

/** Largest request body accepted. */
const MAX_BODY_BYTES = 1024 * 1024;

interface Reply {
  status: number;
  body?: unknown;
}

type Handler = (req: IncomingMessage, params: string[]) => Promise<Reply>;

interface Route {
  /** Path segments; `*` matches one segment, passed to the handler in order. */
  pattern: string[];
  methods: Record<string, Handler>;
}

/**
 * HTTP request handler for the Toxiproxy API (api.go routes, statuses and bodies). Mutating
 * requests run one at a time, as Toxiproxy's collection locks do.
 */
export function createApiHandler(collection: ProxyCollection): (req: IncomingMessage, res: ServerResponse) => void {
  const readProxy = (params: string[]) => collection.get(params[0] ?? '');
  const routes: Route[] = [
    { pattern: ['reset'], methods: { POST: async () => (await collection.reset(), { status: 204 }) } },
    {
      pattern: ['proxies'],
      methods: {
        GET: async () => ({ status: 200, body: Object.fromEntries(collection.list().map((p) => [p.name, p.toJson()])) }),
        // Toxiproxy answers 201 on proxy create (but 200 on toxic create).
        POST: async (req) => ({ status: 201, body: (await collection.create(await readBody(req))).toJson() }),
      },
    },
    {
      pattern: ['populate'],
      methods: {
        POST: async (req) => {
          let result;
          try {
            result = await collection.populate(await readBody(req));
          } catch (err: unknown) {
            // Toxiproxy's populate answers every error with the list of proxies done, here none.
            if (!(err instanceof ToxiproxyApiError)) throw err;
            return { status: err.status, body: { error: err.message, status: err.status, proxies: null } };
          }
          // Go prints an empty list as `null` (a nil slice). On success we send `[]`:
          // toxiproxy-node-client's populate() iterates `proxies` and throws on `null`.
          const proxies = result.proxies.map((p) => p.toJson());
          if (!result.error) return { status: 201, body: { proxies } };
          const done = proxies.length > 0 ? proxies : null;
          return { status: result.error.status, body: { error: result.error.message, status: result.error.status, proxies: done } };
        },
      },
    },
    {
      pattern: ['proxies', '*'],
      methods: {
        GET: async (_req, params) => ({ status: 200, body: readProxy(params).toJson() }),
        POST: async (req, params) => ({ status: 200, body: (await collection.update(params[0] ?? '', await readBody(req))).toJson() }),
        PATCH: async (req, params) => ({ status: 200, body: (await collection.update(params[0] ?? '', await readBody(req))).toJson() }),
        DELETE: async (_req, params) => (await collection.remove(params[0] ?? ''), { status: 204 }),
      },
    },
    {
      pattern: ['proxies', '*', 'toxics'],
      methods: {
        GET: async (_req, params) => ({ status: 200, body: readProxy(params).toxics.list().map(toxicJson) }),
        POST: async (req, params) => {
          const proxy = readProxy(params);
          const spec = parseToxicCreate(await readBody(req), (name) => proxy.toxics.find(name) !== undefined);
          await proxy.toxics.add(spec);
          return { status: 200, body: toxicJson(spec) };
        },
      },
    },
    {
      pattern: ['proxies', '*', 'toxics', '*'],
      methods: {
        GET: async (_req, params) => ({ status: 200, body: toxicJson(readToxic(params)) }),
        POST: async (req, params) => updateToxic(req, params),
        PATCH: async (req, params) => updateToxic(req, params),
        DELETE: async (_req, params) => {
          readToxic(params);
          await readProxy(params).toxics.remove(params[1] ?? '');
          return { status: 204 };
        },
      },
    },
  ];

  function readToxic(params: string[]) {
    const spec = readProxy(params).toxics.find(params[1] ?? '');
    if (!spec) throw apiErrors.toxicNotFound();
    return spec;
  }

  async function updateToxic(req: IncomingMessage, params: string[]): Promise<Reply> {
    const proxy = readProxy(params);
    const current = readToxic(params);
    const body = await readBody(req);
    const spec = parseToxicUpdate(body, current);
    await proxy.toxics.update(spec);
    return { status: 200, body: toxicJson(spec) };
  }

  let queue: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn);
    queue = run.catch(() => undefined);
    return run;
  };

  return (req, res) => {
    void handle(req, res).catch((err: unknown) => {
      // Last resort: an unexpected bug answers 500 instead of crashing the process.
      console.error('chatstorm proxy API: unexpected error', err);
      if (!res.headersSent) sendJson(res, 500, { error: String(err), status: 500 });
      else res.destroy();
    });
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === '/version') {
      if (method !== 'GET') return methodNotAllowed(res, ['GET']);
      res.writeHead(200, { 'Content-Type': 'application/json;charset=utf-8', 'X-Toxiproxy-Implementation': 'chatstorm-embedded' });
      res.end(`{"version": "${TOXIPROXY_API_VERSION}"}\n`);
      return;
    }
    let segments: string[];
    try {
      segments = path.split('/').slice(1).map(decodeURIComponent);
    } catch {
      return notFound(res);
    }
    for (const route of routes) {
      const params = matchRoute(route.pattern, segments);
      if (!params) continue;
      const handler = route.methods[method];
      if (!handler) return methodNotAllowed(res, Object.keys(route.methods));
      // Toxiproxy refuses browsers so that a web page cannot drive the API (CSRF).
      if ((req.headers['user-agent'] ?? '').startsWith('Mozilla/')) {
        res.writeHead(403, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('User agent not allowed\n');
        return;
      }
      try {
        const reply = method === 'GET' ? await handler(req, params) : await exclusive(() => handler(req, params));
        if (reply.status === 204) {
          res.writeHead(204);
          res.end();
        } else {
          sendJson(res, reply.status, reply.body);
        }
      } catch (err: unknown) {
        if (!(err instanceof ToxiproxyApiError)) throw err;
        sendJson(res, err.status, { error: err.message, status: err.status });
      }
      return;
    }
    notFound(res);
  }
}

function matchRoute(pattern: string[], segments: string[]): string[] | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: string[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const seg = segments[i] ?? '';
    if (pattern[i] === '*') {
      if (seg === '') return undefined;
      params.push(seg);
    } else if (pattern[i] !== seg) {
      return undefined;
    }
  }
  return params;
}

/**
 * gorilla/mux (Toxiproxy's router) answers 405 with an empty body. `Allow` is added, as RFC 9110
 * §15.5.6 asks; Toxiproxy omits it.
 */
function methodNotAllowed(res: ServerResponse, allowed: string[]): void {
  res.writeHead(405, { Allow: allowed.join(', '), 'Content-Length': 0 });
  res.end();
}

/** An unknown path gets Go's `http.NotFound`: plain text, as Toxiproxy sends it. */
function notFound(res: ServerResponse): void {
  const text = '404 page not found\n';
  res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw apiErrors.badRequestBody(`body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return parseJsonBody(Buffer.concat(chunks).toString('utf8'));
}
