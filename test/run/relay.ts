/** A TCP relay for tests: forwards to a target port and can swallow everything the server sends. */
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface Relay {
  url: string;
  /** While true, bytes from the server are dropped (an ack that never arrives). */
  swallowDownstream: boolean;
  close(): Promise<void>;
}

export async function startRelay(targetPort: number): Promise<Relay> {
  const sockets = new Set<Socket>();
  const relay: Relay = { url: '', swallowDownstream: false, close: async () => {} };
  const server: Server = createServer((client) => {
    const up = connect(targetPort, '127.0.0.1');
    sockets.add(client).add(up);
    client.on('data', (d) => up.write(d));
    up.on('data', (d) => {
      if (!relay.swallowDownstream) client.write(d);
    });
    const end = () => {
      client.destroy();
      up.destroy();
      sockets.delete(client);
      sockets.delete(up);
    };
    client.on('close', end).on('error', end);
    up.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  relay.url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  relay.close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return relay;
}
