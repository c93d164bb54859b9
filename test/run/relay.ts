/**
 * A TCP relay for tests: forwards to a target port and can swallow what the server sends, all of
 * it or chosen WebSocket frames. Server frames are parsed (RFC 6455 §5.2; the server never masks,
 * permessage-deflate is off in the harness) so that dropping one never corrupts the stream.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface Relay {
  url: string;
  /** While true, frames from the server are dropped (an ack that never arrives). */
  swallowDownstream: boolean;
  /** When set, a server frame it returns true for is dropped (`opcode` 1 text, 2 binary). */
  dropDownstream: ((opcode: number, payload: Buffer) => boolean) | null;
  close(): Promise<void>;
}

export async function startRelay(targetPort: number): Promise<Relay> {
  const sockets = new Set<Socket>();
  const relay: Relay = { url: '', swallowDownstream: false, dropDownstream: null, close: async () => {} };
  const server: Server = createServer((client) => {
    const up = connect(targetPort, '127.0.0.1');
    sockets.add(client).add(up);
    client.on('data', (d) => up.write(d));
    let buf = Buffer.alloc(0);
    let upgraded = false;
    up.on('data', (d) => {
      buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        client.write(buf.subarray(0, end + 4));
        buf = buf.subarray(end + 4);
        upgraded = true;
      }
      // Each pass consumes one whole frame, so this ends when the buffer holds no complete frame.
      while (buf.length >= 2) {
        let len = (buf[1] as number) & 0x7f;
        let off = 2;
        if (len === 126) {
          if (buf.length < 4) return;
          len = buf.readUInt16BE(2);
          off = 4;
        } else if (len === 127) {
          if (buf.length < 10) return;
          len = Number(buf.readBigUInt64BE(2));
          off = 10;
        }
        if ((buf[1] as number) & 0x80) off += 4;
        if (buf.length < off + len) return;
        const frame = buf.subarray(0, off + len);
        const opcode = (buf[0] as number) & 0x0f;
        buf = buf.subarray(off + len);
        if (relay.swallowDownstream || relay.dropDownstream?.(opcode, frame.subarray(off))) continue;
        client.write(frame);
      }
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
