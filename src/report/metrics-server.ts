/**
 * `--metrics-port N`: serves a run's live metrics at `http://127.0.0.1:N/metrics` (Prometheus text
 * format) for as long as the run lasts. 127.0.0.1 unless told otherwise, like everything chatstorm
 * opens.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LiveMetrics } from './live-metrics.ts';

/** A listening metrics endpoint. */
export interface MetricsServer {
  /** `http://HOST:PORT/metrics` */
  url: string;
  close(): Promise<void>;
}

/** Listen on `host:port` (port 0: any free port) and answer GET /metrics from `metrics`. */
export async function startMetricsServer(metrics: LiveMetrics, port: number, host = '127.0.0.1'): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (req.method !== 'GET' || (path !== '/metrics' && path !== '/')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('chatstorm serves GET /metrics\n');
      return;
    }
    metrics.text().then(
      (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
      (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err instanceof Error ? err.message : String(err)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${shownHost}:${addr.port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
