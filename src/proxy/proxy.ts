import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { formatHostPort, parseHostPort, resolveListen } from './address.ts';
import { Connection } from './connection.ts';
import { isFdExhaustion, reportFdExhaustion } from './fd-limit.ts';
import { ToxicCollection } from './toxic-collection.ts';
import { toxicJson, type Stream, type ToxicJson } from './toxic-spec.ts';

/** JSON shape of a proxy, field order as Toxiproxy prints it. */
export interface ProxyJson {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
  toxics: ToxicJson[];
}

/**
 * One proxy: a listener that relays each accepted client to `upstream` through the proxy's
 * toxics. Mirrors Toxiproxy's proxy.go: `listen` is rewritten with the real address once bound
 * (so `:0` reports the ephemeral port), and stopping closes the listener and every connection
 * but keeps the toxics.
 */
export class Proxy {
  readonly name: string;
  listen: string;
  upstream: string;
  enabled = false;
  readonly toxics: ToxicCollection;
  private server: Server | undefined;
  private readonly connections = new Set<Connection>();
  /** Accepted clients whose upstream connection is still being opened. */
  private readonly pending = new Set<Socket>();

  constructor(name: string, listen: string, upstream: string) {
    this.name = name;
    this.listen = listen;
    this.upstream = upstream;
    this.toxics = new ToxicCollection((stream) => this.liveLinks(stream));
  }

  toJson(): ProxyJson {
    return {
      name: this.name,
      listen: this.listen,
      upstream: this.upstream,
      enabled: this.enabled,
      toxics: this.toxics.list().map(toxicJson),
    };
  }

  /** Number of live proxied connections. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /**
   * Whether `listen`/`upstream` differ from this proxy's, comparing the resolved listen address
   * (Toxiproxy's `Differs`). Throws when `listen` cannot be resolved.
   */
  async differs(listen: string, upstream: string): Promise<boolean> {
    const hp = await resolveListen(listen);
    return formatHostPort(hp.host, hp.port) !== this.listen || upstream !== this.upstream;
  }

  /** Binds the listener. Throws an Error with Go's wording when it cannot. No-op when enabled. */
  async start(): Promise<void> {
    if (this.enabled) return;
    const hp = await resolveListen(this.listen);
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, (client) =>
      this.accept(client),
    );
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        reject(new Error(`listen tcp ${formatHostPort(hp.host, hp.port)}: bind: ${describe(err)}`, { cause: err }));
      };
      server.once('error', onError);
      server.listen({ host: hp.host, port: hp.port }, () => {
        server.off('error', onError);
        resolve();
      });
    });
    server.on('error', (err) => {
      // After listening, errors come from accept(): EMFILE and friends. libuv drops that client.
      if (isFdExhaustion(err)) reportFdExhaustion(`accepting a client on proxy ${this.name}`, err);
      else console.error(`chatstorm proxy ${this.name}: accept failed: ${err.message}`);
    });
    const addr = server.address() as AddressInfo;
    this.listen = formatHostPort(addr.address, addr.port);
    this.server = server;
    this.enabled = true;
  }

  /** Closes the listener and every live connection; keeps the toxics. No-op when disabled. */
  async stop(): Promise<void> {
    if (!this.enabled) return;
    this.enabled = false;
    const server = this.server;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    for (const socket of this.pending) socket.destroy();
    this.pending.clear();
    for (const conn of [...this.connections]) conn.destroy();
    this.connections.clear();
    await closed;
  }

  private liveLinks(stream: Stream) {
    return [...this.connections].map((c) => c.link(stream));
  }

  private accept(client: Socket): void {
    const target = parseHostPort(this.upstream);
    client.on('error', () => undefined);
    if (!target) {
      client.destroy();
      return;
    }
    this.pending.add(client);
    const server = connect({ host: target.host || 'localhost', port: target.port, allowHalfOpen: true, noDelay: true });
    const giveUp = (): void => {
      this.pending.delete(client);
      server.destroy();
      client.destroy();
    };
    client.once('close', () => {
      if (this.pending.has(client)) giveUp();
    });
    server.once('error', (err) => {
      if (!this.pending.has(client)) return;
      if (isFdExhaustion(err)) reportFdExhaustion(`connecting proxy ${this.name} to its upstream ${this.upstream}`, err);
      giveUp();
    });
    server.once('connect', () => {
      if (!this.pending.delete(client)) return;
      const conn = new Connection(
        client,
        server,
        { upstream: this.toxics.chain('upstream'), downstream: this.toxics.chain('downstream') },
        (c) => this.connections.delete(c),
      );
      this.connections.add(conn);
      client.resume();
    });
  }
}

function describe(err: NodeJS.ErrnoException): string {
  if (err.code === 'EADDRINUSE') return 'address already in use';
  if (err.code === 'EACCES') return 'permission denied';
  if (err.code === 'EADDRNOTAVAIL') return 'cannot assign requested address';
  return err.message;
}
