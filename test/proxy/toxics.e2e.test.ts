import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sliceBounds, slicerProblem } from '../../src/proxy/toxics/slicer.ts';
import { Harness, ending, readBytes, sleep } from './harness.ts';
import type { Socket } from 'node:net';

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

async function api(method: string, path: string, body?: object): Promise<number> {
  const res = await fetch(h.toxiproxy.url + path, { method, body: body && JSON.stringify(body) });
  await res.text();
  return res.status;
}

/** Round trip of `msg` through an echo behind the proxy, in ms. */
async function roundTrip(s: Socket, msg = 'ping'): Promise<number> {
  const t0 = performance.now();
  const got = readBytes(s, msg.length);
  s.write(msg);
  const { data, atMs } = await got;
  expect(data.toString()).toBe(msg);
  return atMs - t0;
}

/** Median of three round trips: one timer delayed by a busy CI core does not fail the test. */
async function medianRoundTrip(s: Socket): Promise<number> {
  const rtts = [await roundTrip(s), await roundTrip(s), await roundTrip(s)].sort((a, b) => a - b);
  return rtts[1] ?? NaN;
}

describe('latency', () => {
  it('delays downstream data by 100 ms (± 15 ms)', async () => {
    const port = await h.proxy('p', await h.echo());
    await toxic('p', { type: 'latency', attributes: { latency: 100 } });
    const s = await h.connect(port);
    const rtt = await medianRoundTrip(s);
    expect(rtt).toBeGreaterThanOrEqual(98); // a Node timer may fire up to ~1 ms early on its millisecond clock
    expect(rtt).toBeLessThanOrEqual(115);
  });

  it('adds stacked latencies (50 ms upstream + 50 ms downstream ≈ 100 ms ± 15 ms)', async () => {
    const port = await h.proxy('p', await h.echo());
    await toxic('p', { type: 'latency', stream: 'upstream', attributes: { latency: 50 } });
    await toxic('p', { name: 'down', type: 'latency', attributes: { latency: 50 } });
    const rtt = await medianRoundTrip(await h.connect(port));
    expect(rtt).toBeGreaterThanOrEqual(98); // a Node timer may fire up to ~1 ms early on its millisecond clock
    expect(rtt).toBeLessThanOrEqual(115);
  });

  it('keeps jitter within latency ± jitter (60 ± 30 ms, + 25 ms slack above for timers on a busy 2-core machine) and actually varies', async () => {
    const port = await h.proxy('p', await h.echo());
    await toxic('p', { type: 'latency', attributes: { latency: 60, jitter: 30 } });
    const s = await h.connect(port);
    const rtts: number[] = [];
    for (let i = 0; i < 15; i++) rtts.push(await roundTrip(s, `m${i}`));
    for (const rtt of rtts) {
      expect(rtt).toBeGreaterThanOrEqual(29);
      expect(rtt).toBeLessThanOrEqual(115);
    }
    expect(Math.max(...rtts) - Math.min(...rtts)).toBeGreaterThan(10);
  });

  it('keeps order under jitter: 200 small messages arrive in order', async () => {
    const port = await h.proxy('p', await h.echo());
    await toxic('p', { type: 'latency', attributes: { latency: 5, jitter: 5 } });
    const s = await h.connect(port);
    const expected = Array.from({ length: 200 }, (_, i) => `<${i}>`).join('');
    const got = readBytes(s, expected.length);
    for (let i = 0; i < 200; i++) s.write(`<${i}>`);
    expect((await got).data.toString()).toBe(expected);
  });

  it('applies to a live connection when added, and removal flushes held data at once', async () => {
    const port = await h.proxy('p', await h.echo());
    const s = await h.connect(port);
    expect(await roundTrip(s)).toBeLessThan(50);
    await toxic('p', { name: 'lag', type: 'latency', attributes: { latency: 100 } });
    const rtt = await medianRoundTrip(s);
    expect(rtt).toBeGreaterThanOrEqual(98); // a Node timer may fire up to ~1 ms early on its millisecond clock
    expect(rtt).toBeLessThanOrEqual(115);
    await api('PATCH', '/proxies/p/toxics/lag', { attributes: { latency: 5000 } });
    const t0 = performance.now();
    const got = readBytes(s, 4);
    s.write('held');
    await sleep(100);
    expect(await api('DELETE', '/proxies/p/toxics/lag')).toBe(204);
    const { data, atMs } = await got;
    expect(data.toString()).toBe('held');
    expect(atMs - t0).toBeLessThan(200); // not 5000 ms: removal flushed it
  });
});

describe('bandwidth', () => {
  it('limits downstream to 500 KB/s (1 KB = 1000 B): 250 000 bytes take 500 ms ± 10 %', async () => {
    const size = 250_000;
    const upstream = await h.server((s) => s.end(Buffer.alloc(size, 7)));
    const port = await h.proxy('p', upstream);
    await toxic('p', { type: 'bandwidth', attributes: { rate: 500 } });
    const t0 = performance.now();
    const s = await h.connect(port);
    const { data, atMs } = await readBytes(s, size);
    expect(data.length).toBe(size);
    expect(atMs - t0).toBeGreaterThanOrEqual(450);
    expect(atMs - t0).toBeLessThanOrEqual(550);
  });
});

describe('slicer', () => {
  it('cuts chunks by halving until a piece is at most average_size + size_variation (as Toxiproxy)', () => {
    const sizes = (cuts: number[]) => cuts.slice(1).map((c, j) => c - (cuts[j] ?? 0));
    for (let i = 0; i < 50; i++) {
      const pieces = sizes(sliceBounds(1000, 20, 5));
      expect(pieces.reduce((a, b) => a + b, 0)).toBe(1000);
      // A piece is at most 20 + 5; its parent was > 25, so a half is ≥ 13, minus the variation 5.
      for (const size of pieces) {
        expect(size).toBeGreaterThanOrEqual(8);
        expect(size).toBeLessThanOrEqual(25);
      }
    }
    expect(sizes(sliceBounds(100, 10, 0))).toEqual([6, 6, 6, 7, 6, 6, 6, 7, 6, 6, 6, 7, 6, 6, 6, 7]);
  });

  it('ends with pieces inside their parent for every setting slicerProblem accepts, and refuses the others', () => {
    let accepted = 0;
    for (let avg = -3; avg <= 12; avg++) {
      for (let variation = -4; variation <= 16; variation++) {
        if (slicerProblem(avg, variation) !== undefined) continue;
        accepted++;
        for (const length of [1, 2, 3, 7, 33, 500]) {
          const cuts = sliceBounds(length, avg, variation);
          expect(cuts.at(-1)).toBe(length);
          for (let i = 1; i < cuts.length; i++) expect(cuts[i]).toBeGreaterThanOrEqual(cuts[i - 1] ?? 0);
        }
      }
    }
    expect(accepted).toBeGreaterThan(100);
    // The two ways Toxiproxy dies: endless halving, and a variation that can cut a negative piece.
    expect(slicerProblem(0, 0)).toMatch(/recurses forever/);
    expect(slicerProblem(5, 7)).toMatch(/panics Toxiproxy/);
    expect(slicerProblem(5, 6)).toBeUndefined();
  });

  it('relays every byte in order with size_variation equal to average_size (accepted, as Toxiproxy 2.12 does)', async () => {
    const payload = Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 251));
    const upstream = await h.server((s) => s.write(payload));
    const port = await h.proxy('p', upstream);
    await toxic('p', { type: 'slicer', attributes: { average_size: 8, size_variation: 8, delay: 10 } });
    const s = await h.connect(port);
    const { data } = await readBytes(s, payload.length);
    expect(data).toEqual(payload);
  });

  it('delivers sliced pieces separately, delayed, all bytes in order', async () => {
    const payload = Buffer.from(Array.from({ length: 100 }, (_, i) => i));
    const upstream = await h.server((s) => s.write(payload));
    const port = await h.proxy('p', upstream);
    await toxic('p', { type: 'slicer', attributes: { average_size: 10, size_variation: 0, delay: 3000 } });
    const s = await h.connect(port);
    const sizes: number[] = [];
    s.on('data', (d: Buffer) => sizes.push(d.length));
    const t0 = performance.now();
    const { data, atMs } = await readBytes(s, 100);
    expect(data).toEqual(payload);
    expect(sizes.length).toBeGreaterThanOrEqual(5);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(14); // a piece is 6 or 7 bytes; at most two coalesce
    expect(atMs - t0).toBeGreaterThanOrEqual(40); // 15 gaps of 3 ms, minus timer slack
  });
});

describe('limit_data', () => {
  it('lets exactly `bytes` bytes through, then closes', async () => {
    const upstream = await h.server((s) => s.write(Buffer.alloc(5000, 1)));
    const port = await h.proxy('p', upstream);
    await toxic('p', { type: 'limit_data', attributes: { bytes: 1234 } });
    const s = await h.connect(port);
    let total = 0;
    s.on('data', (d: Buffer) => (total += d.length));
    const end = await ending(s);
    expect(end.how).toBe('end');
    expect(total).toBe(1234);
  });
});

describe('reset_peer', () => {
  it('resets the connection: the client gets ECONNRESET', async () => {
    const port = await h.proxy('p', await h.echo());
    await toxic('p', { type: 'reset_peer', stream: 'upstream', attributes: { timeout: 0 } });
    const s = await h.connect(port);
    const end = ending(s);
    s.write('boom');
    expect((await end).how).toBe('ECONNRESET');
  });

  it('waits `timeout` ms after the first data before the reset (100 ms ± 30 ms)', async () => {
    const port = await h.proxy('p', await h.echo());
    await toxic('p', { type: 'reset_peer', stream: 'upstream', attributes: { timeout: 100 } });
    const s = await h.connect(port);
    const end = ending(s);
    const t0 = performance.now();
    s.write('boom');
    const { how, atMs } = await end;
    expect(how).toBe('ECONNRESET');
    expect(atMs - t0).toBeGreaterThanOrEqual(98); // a Node timer may fire up to ~1 ms early on its millisecond clock
    expect(atMs - t0).toBeLessThanOrEqual(130);
  });
});

describe('timeout', () => {
  it('drops data and closes the connection after `timeout` ms (200 ms ± 50 ms)', async () => {
    const port = await h.proxy('p', await h.echo());
    await toxic('p', { type: 'timeout', attributes: { timeout: 200 } });
    const t0 = performance.now();
    const s = await h.connect(port);
    let received = 0;
    s.on('data', (d: Buffer) => (received += d.length));
    const end = ending(s);
    s.write('lost');
    const { how, atMs } = await end;
    expect(how).toBe('end');
    expect(received).toBe(0);
    expect(atMs - t0).toBeGreaterThanOrEqual(150);
    expect(atMs - t0).toBeLessThanOrEqual(250);
  });

  it('with timeout 0 holds the connection open; removing the toxic closes it (as Toxiproxy does)', async () => {
    const port = await h.proxy('p', await h.echo());
    await toxic('p', { type: 'timeout', attributes: { timeout: 0 } });
    const s = await h.connect(port);
    let closed = false;
    const end = ending(s).then((e) => ((closed = true), e));
    s.write('held');
    await sleep(300);
    expect(closed).toBe(false);
    expect(await api('DELETE', '/proxies/p/toxics/timeout_downstream')).toBe(204);
    expect((await end).how).toBe('end');
  });
});

describe('slow_close', () => {
  it('delays the FIN by `delay` ms (300 ms, ≥ 295 and ≤ 360) after the data', async () => {
    const upstream = await h.server((s) => s.end('bye'));
    const port = await h.proxy('p', upstream);
    await toxic('p', { type: 'slow_close', attributes: { delay: 300 } });
    const s = await h.connect(port);
    const end = ending(s);
    const { data, atMs: dataAt } = await readBytes(s, 3);
    expect(data.toString()).toBe('bye');
    const { how, atMs } = await end;
    expect(how).toBe('end');
    expect(atMs - dataAt).toBeGreaterThanOrEqual(295);
    expect(atMs - dataAt).toBeLessThanOrEqual(360);
  });
});

describe('toxicity', () => {
  it('toxicity 0 leaves connections untouched', async () => {
    const port = await h.proxy('p', await h.echo());
    await toxic('p', { type: 'latency', toxicity: 0, attributes: { latency: 500 } });
    for (let i = 0; i < 5; i++) {
      const s = await h.connect(port);
      expect(await roundTrip(s)).toBeLessThan(50);
    }
  });

  it('toxicity 0.5 affects some connections and spares others (40 connections)', async () => {
    const port = await h.proxy('p', await h.echo());
    // 300 ms latency against a 150 ms threshold: a spared connection stays far below it even on a
    // busy machine (the whole suite runs in parallel), so `slow` counts coin flips, not load.
    await toxic('p', { type: 'latency', toxicity: 0.5, attributes: { latency: 300 } });
    const rtts = await Promise.all(Array.from({ length: 40 }, async () => roundTrip(await h.connect(port))));
    const slow = rtts.filter((r) => r >= 150).length;
    expect(rtts.filter((r) => r >= 150).every((r) => r >= 295)).toBe(true);
    expect(slow).toBeGreaterThan(5); // P(fail) ≈ 1e-6 under a fair coin
    expect(slow).toBeLessThan(35);
  });
});

describe('enabled: false', () => {
  it('closes the listener and every live connection, keeps the toxics, and comes back', async () => {
    const port = await h.proxy('p', await h.echo());
    await toxic('p', { type: 'latency', attributes: { latency: 10 } });
    const s = await h.connect(port);
    await roundTrip(s);
    const end = ending(s);
    expect(await api('PATCH', '/proxies/p', { enabled: false })).toBe(200);
    expect(['end', 'close', 'ECONNRESET']).toContain((await end).how);
    await expect(h.connect(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    const shown = (await (await fetch(`${h.toxiproxy.url}/proxies/p`)).json()) as { enabled: boolean; toxics: unknown[] };
    expect(shown).toMatchObject({ enabled: false, listen: `127.0.0.1:${port}` });
    expect(shown.toxics).toHaveLength(1);
    expect(await api('PATCH', '/proxies/p', { enabled: true })).toBe(200);
    const rtt = await roundTrip(await h.connect(port));
    expect(rtt).toBeGreaterThanOrEqual(9);
  });
});
