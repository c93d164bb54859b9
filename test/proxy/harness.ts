import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { Toxiproxy } from 'toxiproxy-node-client';
import { startEmbeddedToxiproxy, type EmbeddedToxiproxy } from '../../src/proxy/index.ts';

/** Everything a proxy test opens, closed by `close()` in afterEach. */
export class Harness {
  toxiproxy!: EmbeddedToxiproxy;
  client!: Toxiproxy;
  private readonly servers: Server[] = [];
  private readonly sockets = new Set<Socket>();

  async start(): Promise<this> {
    this.toxiproxy = await startEmbeddedToxiproxy({ port: 0 });
    this.client = new Toxiproxy(this.toxiproxy.url);
    return this;
  }

  /** A TCP server on 127.0.0.1:0; `onSocket` handles each connection. Returns its port. */
  async server(onSocket: (s: Socket) => void): Promise<number> {
    const server = createServer((s) => {
      this.sockets.add(s);
      s.on('error', () => undefined);
      onSocket(s);
    });
    this.servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return (server.address() as AddressInfo).port;
  }

  /** An echo server. */
  echo(): Promise<number> {
    return this.server((s) => s.pipe(s));
  }

  /** A proxy in front of `upstreamPort`; returns the port clients connect to. */
  async proxy(name: string, upstreamPort: number): Promise<number> {
    const p = await this.client.createProxy({ name, listen: '127.0.0.1:0', upstream: `127.0.0.1:${upstreamPort}` });
    return Number(p.listen.split(':').at(-1));
  }

  /** A connected client socket. */
  async connect(port: number): Promise<Socket> {
    const s = connect({ port, host: '127.0.0.1', noDelay: true });
    this.sockets.add(s);
    await new Promise<void>((resolve, reject) => {
      s.once('connect', resolve);
      s.once('error', reject);
    });
    return s;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await this.toxiproxy?.close();
    await Promise.all(this.servers.map((s) => new Promise((r) => s.close(r))));
  }
}

/** Resolves with the next `n` bytes read from `s` and the time (ms) the last one arrived. */
export function readBytes(s: Socket, n: number): Promise<{ data: Buffer; atMs: number }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const onData = (d: Buffer): void => {
      chunks.push(d);
      got += d.length;
      if (got >= n) {
        s.off('data', onData);
        s.off('error', reject);
        resolve({ data: Buffer.concat(chunks), atMs: performance.now() });
      }
    };
    s.on('data', onData);
    s.once('error', reject);
  });
}

/** Resolves how the socket ended: 'end' (FIN), an error code (e.g. ECONNRESET), and when. */
export function ending(s: Socket): Promise<{ how: string; atMs: number }> {
  return new Promise((resolve) => {
    s.once('end', () => resolve({ how: 'end', atMs: performance.now() }));
    s.once('error', (e: NodeJS.ErrnoException) => resolve({ how: e.code ?? 'error', atMs: performance.now() }));
    s.once('close', () => resolve({ how: 'close', atMs: performance.now() }));
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
