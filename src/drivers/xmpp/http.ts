/**
 * HTTP for attachments (XEP-0363 uploads, downloads), sent to the device's network (its proxy)
 * instead of the host in the URL, with the URL's own Host header so a server that serves several
 * virtual hosts on one port (Prosody's `upload.<domain>`) still routes the request.
 */
import { request } from 'node:http';

export interface HttpAnswer {
  status: number;
  body: Buffer;
}

/**
 * `method` `url`, connecting to `via` (`host:port`) when given, else to the URL's host. Rejects
 * on a socket error, after `timeoutMs`, or when `signal` aborts.
 */
export function httpVia(method: 'GET' | 'PUT', url: string, o: { via?: string; body?: Uint8Array; headers?: Record<string, string>; timeoutMs: number; signal?: AbortSignal }): Promise<HttpAnswer> {
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
    req.end(o.body);
  });
}
