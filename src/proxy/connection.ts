import type { Socket } from 'node:net';
import { Link, type LinkHost } from './link.ts';
import type { Stream, ToxicSpec } from './toxic-spec.ts';

/**
 * A proxied client connection: two links, `upstream` (client → server) and `downstream`
 * (server → client).
 *
 *   client ──▶ Link upstream   ──▶ server
 *   client ◀── Link downstream ◀── server
 *
 * Endings: a FIN from one side is passed on as a FIN (half-close, as socket.pipe does). A close
 * decided by a toxic (timeout, limit_data) ends that direction and then the other, each after
 * delivering what its toxics still hold, then both sockets are closed (Toxiproxy closes both).
 * A reset (reset_peer) sends RST on both sockets at once. A disabled or deleted proxy destroys
 * both sockets at once.
 */
export class Connection implements LinkHost {
  readonly upstream: Link;
  readonly downstream: Link;
  private done = false;

  constructor(
    readonly client: Socket,
    readonly server: Socket,
    toxics: { upstream: readonly ToxicSpec[]; downstream: readonly ToxicSpec[] },
    private readonly onClosed: (conn: Connection) => void,
  ) {
    this.upstream = new Link('upstream', client, server, toxics.upstream, this);
    this.downstream = new Link('downstream', server, client, toxics.downstream, this);
    for (const socket of [client, server]) {
      socket.on('error', () => undefined); // reported through 'close' below; never crash
      socket.on('close', () => this.socketClosed(socket));
    }
  }

  /** The link of one direction. */
  link(stream: Stream): Link {
    return stream === 'upstream' ? this.upstream : this.downstream;
  }

  linkEnded(link: Link, reason: 'eof' | 'closed'): void {
    const other = link === this.upstream ? this.downstream : this.upstream;
    if (reason === 'closed') other.endInput('closed');
    if (this.upstream.finished && this.downstream.finished) {
      for (const socket of [this.client, this.server]) destroyWhenFlushed(socket);
    }
  }

  resetConnection(): void {
    for (const socket of [this.client, this.server]) {
      if (socket.destroyed) continue;
      try {
        socket.resetAndDestroy();
      } catch {
        socket.destroy();
      }
    }
    this.finish();
  }

  /** Closes both sockets now (proxy disabled, deleted, or server shut down). */
  destroy(): void {
    this.client.destroy();
    this.server.destroy();
    this.finish();
  }

  private socketClosed(socket: Socket): void {
    if (this.done) return;
    if (this.client.destroyed && this.server.destroyed) {
      this.finish();
      return;
    }
    // One side is gone: deliver what is in flight towards the other side, then end it.
    const into = socket === this.client ? this.downstream : this.upstream;
    const from = socket === this.client ? this.upstream : this.downstream;
    into.abandon();
    from.endInput('closed');
    if (this.upstream.finished && this.downstream.finished) {
      for (const s of [this.client, this.server]) destroyWhenFlushed(s);
    }
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.upstream.dispose();
    this.downstream.dispose();
    this.onClosed(this);
  }
}

function destroyWhenFlushed(socket: Socket): void {
  if (socket.destroyed) return;
  if (socket.writableFinished) socket.destroy();
  else socket.once('finish', () => socket.destroy());
}
