/**
 * HTTP for attachments (XEP-0363 uploads, downloads), sent to the device's network (its proxy)
 * instead of the host in the URL, with the URL's own Host header so a server that serves several
 * virtual hosts on one port (Prosody's `upload.<domain>`) still routes the request.
 */
import { request, type ClientRequest } from 'node:http';

export interface HttpAnswer {
  status: number;
  body: Buffer;
}

/** Bytes of a request body written at a time when progress is reported (as the reference driver's upload chunks). */
const BODY_CHUNK_BYTES = 16 * 1024;

/**
 * `method` `url`, connecting to `via` (`host:port`) when given, else to the URL's host. Rejects
 * on a socket error, after `timeoutMs`, or when `signal` aborts. With `onProgress`, the body goes
 * out in chunks and `onProgress(sentBytes)` is told after each is handed to the socket (it may
 * abort the request through `signal`).
 */
export function httpVia(
  method: 'GET' | 'PUT',
  url: string,
  o: { via?: string; body?: Uint8Array; headers?: Record<string, string>; timeoutMs: number; signal?: AbortSignal; onProgress?: (sentBytes: number) => void },
): Promise<HttpAnswer> {
  const u = new URL(url);
  const target = new URL(`http://${o.via ?? u.host}`);
  return new Promise<HttpAnswer>((resolve, reject) => {
    const req = request(
      {
        host: target.hostname,
        port: target.port || 80,
        method,
        path: u.pathname + u.search,
        headers: { host: u.host, ...(o.body ? { 'content-length': String(o.body.length) } : {}), ...o.headers },
        timeout: o.timeoutMs,
        ...(o.signal ? { signal: o.signal } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`HTTP ${method} ${url} timed out after ${o.timeoutMs} ms`)));
    req.on('error', reject);
    if (o.body === undefined || o.onProgress === undefined) req.end(o.body);
    else void writeInChunks(req, o.body, o.onProgress);
  });
}

/** Write `body` a chunk at a time, each after the previous one was flushed, telling `onProgress`; then end. */
async function writeInChunks(req: ClientRequest, body: Uint8Array, onProgress: (sentBytes: number) => void): Promise<void> {
  for (let off = 0; off < body.length; off += BODY_CHUNK_BYTES) {
    const end = Math.min(body.length, off + BODY_CHUNK_BYTES);
    // The callback runs once the chunk is flushed, or with an error once the request is destroyed.
    const flushed = await new Promise<boolean>((done) => req.write(body.subarray(off, end), (err) => done(err == null)));
    if (!flushed || req.destroyed) return;
    onProgress(end);
    if (req.destroyed) return;
  }
  req.end();
}
