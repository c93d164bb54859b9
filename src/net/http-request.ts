/**
 * One HTTP(S) request to an `Endpoint` (see target.ts), with its `Host` header and TLS settings:
 * what a driver's REST calls (provisioning, uploads) need and what `fetch` cannot take (no CA, no
 * server name, no `Host` of its own).
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { clientOptions, type Endpoint } from './target.ts';

export interface HttpResponse {
  status: number;
  ok: boolean;
  text: string;
}

/**
 * Send `body` to `path` (relative to the endpoint's URL) and read the whole answer. Rejects on a
 * network or TLS error, or after `timeoutMs` (default 30 s).
 */
export function requestEndpoint(
  e: Endpoint,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number } = {},
): Promise<HttpResponse> {
  const base = e.url.endsWith('/') ? e.url : e.url + '/';
  const url = new URL(path.replace(/^\/+/, ''), base);
  const opts = clientOptions(e);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, { ...opts, method: init.method ?? 'GET', headers: { ...opts.headers, ...init.headers }, timeout: init.timeoutMs ?? 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        resolve({ status, ok: status >= 200 && status < 300, text: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url.href} within ${init.timeoutMs ?? 30_000} ms`)));
    req.on('error', reject);
    req.end(init.body);
  });
}
