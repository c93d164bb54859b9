import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Socket } from 'node:net';
import { Harness } from './harness.ts';

/**
 * Flow control of a link under load: big transfers through toxics, written the way a real server
 * writes (256 KiB at a time, waiting for 'drain' whenever write() says the buffer is full). Every
 * byte must arrive, in order, well within the bound: at localhost speed 8–16 MB take well under a
 * second plus the toxics' own delays, so 15 s is generous.
 */
const BOUND_MS = 15_000;
const MB = 1_000_000;
const CHUNK = 256 * 1024;

let h: Harness;
beforeEach(async () => {
  h = await new Harness().start();
});
afterEach(async () => {
  await h.close();
});

async function toxic(proxy: string, body: object): Promise<void> {
  const res = await fetch(`${h.toxiproxy.url}/proxies/${proxy}/toxics`, { method: 'POST', body: JSON.stringify(body) });
  expect(res.status).toBe(200);
}

async function removeToxic(proxy: string, name: string): Promise<void> {
  const res = await fetch(`${h.toxiproxy.url}/proxies/${proxy}/toxics/${name}`, { method: 'DELETE' });
  expect(res.status).toBe(204);
}

/** `n` bytes where each 4-byte word holds its own index, so a lost or reordered piece shows. */
function pattern(n: number): Buffer {
  const buf = Buffer.alloc(n);
  for (let i = 0; i + 4 <= n; i += 4) buf.writeUInt32LE(i / 4, i);
  return buf;
}

/** Writes `data` in 256 KiB chunks, waiting for 'drain' whenever write() returns false. */
async function sendHonouringDrain(s: Socket, data: Buffer): Promise<void> {
  for (let off = 0; off < data.length; off += CHUNK) {
    if (!s.write(data.subarray(off, off + CHUNK))) {
      await new Promise<void>((resolve, reject) => {
        const onDrain = (): void => {
          s.off('close', onClose);
          resolve();
        };
        const onClose = (): void => {
          s.off('drain', onDrain);
          reject(new Error(`socket closed after ${off} of ${data.length} bytes were written`));
        };
        s.once('drain', onDrain);
        s.once('close', onClose);
      });
    }
  }
}

/** Called after each arriving piece with the running byte count and the receiving socket. */
type Progress = (got: number, s: Socket) => void;

interface Received {
  data: Buffer;
  ms: number;
}

/**
 * Collects `n` bytes from `s`, calling `onProgress` with the running count. Resolves with what
 * arrived by the deadline (possibly short), so the assertion can say how much was missing.
 */
function receive(s: Socket, n: number, onProgress?: Progress): Promise<Received> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const finish = (): void => {
      clearTimeout(timer);
      s.off('data', onData);
      resolve({ data: Buffer.concat(chunks), ms: performance.now() - t0 });
    };
    const timer = setTimeout(finish, BOUND_MS);
    const onData = (d: Buffer): void => {
      chunks.push(d);
      got += d.length;
      onProgress?.(got, s);
      if (got >= n) finish();
    };
    s.on('data', onData);
  });
}

/** Asserts every byte arrived in order within the bound, naming the first bad offset otherwise. */
function expectComplete(got: Received, sent: Buffer): void {
  expect(got.data.length, `bytes arrived within ${BOUND_MS} ms`).toBe(sent.length);
  let firstDiff = -1;
  if (!got.data.equals(sent)) {
    firstDiff = 0;
    while (got.data[firstDiff] === sent[firstDiff]) firstDiff++;
  }
  expect(firstDiff, 'offset of the first byte out of place').toBe(-1);
  expect(got.ms).toBeLessThan(BOUND_MS);
}

/** Server → proxy → client: the server writes `data` once the client is connected. */
async function download(toxics: object[], data: Buffer, onProgress?: Progress): Promise<Received> {
  const port = await h.proxy('p', await h.server((s) => void sendHonouringDrain(s, data).catch(() => undefined)));
  for (const t of toxics) await toxic('p', t);
  const client = await h.connect(port);
  return receive(client, data.length, onProgress);
}

/** Client → proxy → server: the client writes `data`; resolves with what the server received. */
async function upload(toxics: object[], data: Buffer): Promise<Received> {
  let arrived!: (r: Received) => void;
  const received = new Promise<Received>((resolve) => (arrived = resolve));
  const port = await h.proxy('p', await h.server((s) => void receive(s, data.length).then(arrived)));
  for (const t of toxics) await toxic('p', t);
  const client = await h.connect(port);
  void sendHonouringDrain(client, data).catch(() => undefined);
  return received;
}

describe('link flow control under big transfers', () => {
  it('delivers 8 MB downstream through a 20 ms latency toxic, complete and in order', async () => {
    const data = pattern(8 * MB);
    expectComplete(await download([{ type: 'latency', attributes: { latency: 20 } }], data), data);
  });

  it('delivers 8 MB upstream through a 20 ms latency toxic, complete and in order', async () => {
    const data = pattern(8 * MB);
    expectComplete(
      await upload([{ type: 'latency', stream: 'upstream', attributes: { latency: 20 } }], data),
      data,
    );
  });

  it('delivers 16 MB downstream through 20 ± 10 ms of jitter, complete and in order', async () => {
    const data = pattern(16 * MB);
    expectComplete(await download([{ type: 'latency', attributes: { latency: 20, jitter: 10 } }], data), data);
  });

  it('delivers 8 MB through a 4000 KB/s bandwidth toxic at about that rate (2 s, at least 1.8 s)', async () => {
    const data = pattern(8 * MB);
    const got = await download([{ type: 'bandwidth', attributes: { rate: 4000 } }], data);
    expectComplete(got, data);
    expect(got.ms).toBeGreaterThanOrEqual(1800);
  });

  it('delivers 8 MB through a slicer (1000 ± 200 byte pieces, 50 µs apart), complete and in order', async () => {
    const data = pattern(8 * MB);
    const slicer = { type: 'slicer', attributes: { average_size: 1000, size_variation: 200, delay: 50 } };
    expectComplete(await download([slicer], data), data);
  });

  it('delivers 8 MB both ways through stacked latency, jitter, slicer, bandwidth and noop toxics', async () => {
    const data = pattern(8 * MB);
    const stack = (stream: string): object[] => [
      { name: `lat_${stream}`, stream, type: 'latency', attributes: { latency: 20, jitter: 5 } },
      { name: `slice_${stream}`, stream, type: 'slicer', attributes: { average_size: 16384, size_variation: 4096 } },
      { name: `bw_${stream}`, stream, type: 'bandwidth', attributes: { rate: 20000 } },
      { name: `noop_${stream}`, stream, type: 'noop' },
    ];
    expectComplete(await download(stack('downstream'), data), data);
    await h.close();
    h = await new Harness().start();
    expectComplete(await upload(stack('upstream'), data), data);
  });

  it('delivers 8 MB to a client that stops reading for 200 ms after every 2 MB (20 ms latency)', async () => {
    const data = pattern(8 * MB);
    let nextStop = 2 * MB;
    const got = await download([{ type: 'latency', attributes: { latency: 20 } }], data, (n, client) => {
      if (n < nextStop) return;
      nextStop += 2 * MB;
      client.pause();
      setTimeout(() => client.resume(), 200);
    });
    expectComplete(got, data);
  });

  it('keeps 16 MB complete and in order while toxics are added and removed mid-transfer', async () => {
    const data = pattern(16 * MB);
    // The client stops reading while each change is applied, so the change lands with the
    // transfer in full flight (socket buffers and the link's stages full), not after it ended.
    // Over 6 MB follow each change, so the chain fills past its high-water mark again after it.
    const at = [
      { bytes: 1 * MB, change: () => toxic('p', { name: 'lat', type: 'latency', attributes: { latency: 20, jitter: 5 } }) },
      { bytes: 2 * MB, change: () => toxic('p', { name: 'slice', type: 'slicer', attributes: { average_size: 4096 } }) },
      { bytes: 3 * MB, change: () => toxic('p', { name: 'bw', type: 'bandwidth', attributes: { rate: 20000 } }) },
      { bytes: 4 * MB, change: () => removeToxic('p', 'slice') },
      { bytes: 10 * MB, change: () => removeToxic('p', 'lat') },
    ];
    let applied = 0;
    const got = await download([], data, (n, client) => {
      const next = at[0];
      if (!next || n < next.bytes) return;
      at.shift();
      client.pause();
      void next.change().then(() => {
        applied++;
        client.resume();
      });
    });
    expectComplete(got, data);
    expect(applied).toBe(5);
  });
});
