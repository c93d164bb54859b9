import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UsageError } from '../errors.ts';
import { isLoopbackHost } from '../net/loopback.ts';
import { formatHostPort } from './address.ts';
import { createApiHandler } from './api.ts';
import { ProxyListenError } from './errors.ts';
import { ProxyCollection } from './proxy-collection.ts';

/** Where the embedded Toxiproxy API listens. */
export interface EmbeddedToxiproxyOptions {
  /** Interface to bind. Default `127.0.0.1`. */
  host?: string;
  /** TCP port. Default 8474 (Toxiproxy's); 0 picks an ephemeral port. */
  port?: number;
}

/** A running embedded Toxiproxy-compatible server. */
export interface EmbeddedToxiproxy {
  /** Base URL of the HTTP API, e.g. `http://127.0.0.1:8474`. */
  readonly url: string;
  /** The port the API really listens on (useful with `port: 0`). */
  readonly port: number;
  /** Closes the API, every proxy and every proxied connection. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts the embedded Toxiproxy-compatible server: the HTTP API of Toxiproxy 2.12 and its
 * toxics, in this process. Rejects with {@link ProxyListenError} when the address is taken.
 */
export async function startEmbeddedToxiproxy(opts: EmbeddedToxiproxyOptions = {}): Promise<EmbeddedToxiproxy> {
  const host = opts.host ?? '127.0.0.1';
  const requestedPort = opts.port ?? 8474;
  const collection = new ProxyCollection();
  const server = createServer(createApiHandler(collection));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new ProxyListenError(formatHostPort(host, requestedPort), err)));
    server.listen({ host, port: requestedPort }, () => resolve());
  });
  server.on('error', (err) => console.error(`chatstorm proxy API: ${err.message}`));
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${formatHostPort(host, port)}`,
    port,
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await collection.closeAll();
        await closed;
      })();
      return closing;
    },
  };
}

/**
 * Runs the embedded Toxiproxy in the foreground (for `chatstorm proxy`): prints
 * `toxiproxy-compatible API listening on http://HOST:PORT` and resolves once closed by SIGINT or
 * SIGTERM.
 */
export async function runProxyCli(opts: { host: string; port: number }): Promise<void> {
  // The Toxiproxy API has no authentication (Toxiproxy's own has none, and its clients send no
  // credentials), and it can open TCP relays to any address: never on a network.
  if (!isLoopbackHost(opts.host)) {
    throw new UsageError(
      `chatstorm proxy --host ${opts.host}: the Toxiproxy API has no authentication and can relay to any address, so it listens ` +
        'on loopback only (127.0.0.1, ::1). Reach it from another machine through an SSH tunnel, or run a real Toxiproxy there.',
    );
  }
  const toxiproxy = await startEmbeddedToxiproxy(opts);
  process.stdout.write(`toxiproxy-compatible API listening on ${toxiproxy.url}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void toxiproxy.close().then(resolve, resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
