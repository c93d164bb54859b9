import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Socket } from 'node:net';
import { Harness, sleep } from './harness.ts';

let h: Harness;
beforeEach(async () => {
  h = await new Harness().start();
});
afterEach(async () => {
  await h.close();
});

/** Toxics that delay, slice or throttle but never drop or close: every byte must get through. */
const lossless = [
  () => ({ type: 'latency', attributes: { latency: rand(0, 20), jitter: rand(0, 5) } }),
  () => ({ type: 'slicer', attributes: { average_size: rand(50, 500), size_variation: rand(0, 40), delay: rand(0, 2000) } }),
  () => ({ type: 'bandwidth', attributes: { rate: rand(500, 5000) } }),
  () => ({ type: 'noop', attributes: {} }),
  () => ({ type: 'slow_close', attributes: { delay: rand(0, 10) } }),
];

function rand(lo: number, hi: number): number {
  return lo + Math.floor(Math.random() * (hi - lo + 1));
}

async function call(method: string, path: string, body?: object): Promise<number> {
  const res = await fetch(h.toxiproxy.url + path, { method, body: body && JSON.stringify(body) });
  await res.text();
  return res.status;
}

/** Sends a numbered byte stream and checks the echo against it. */
class Talker {
  sent = 0;
  received = 0;
  mismatchAt = -1;
  private running = true;
  constructor(private readonly s: Socket) {
    s.on('data', (d: Buffer) => {
      for (const byte of d) {
        if (this.mismatchAt < 0 && byte !== this.received % 251) this.mismatchAt = this.received;
        this.received++;
      }
    });
  }
  async run(): Promise<void> {
    while (this.running) {
      const n = rand(1, 4000);
      const buf = Buffer.alloc(n);
      for (let i = 0; i < n; i++) buf[i] = (this.sent + i) % 251;
      this.sent += n;
      if (!this.s.write(buf)) await new Promise((r) => this.s.once('drain', r));
      await sleep(rand(1, 5));
    }
  }
  stop(): void {
    this.running = false;
  }
}

it('adds, updates and removes toxics on live connections without losing or reordering a byte', async () => {
  const port = await h.proxy('p', await h.echo());
  const talkers = await Promise.all(Array.from({ length: 4 }, async () => new Talker(await h.connect(port))));
  const runs = talkers.map((t) => t.run());
  const live: { name: string; make: () => object }[] = [];
  let ops = 0;
  const deadline = performance.now() + 6000;
  for (let i = 0; i < 200 && performance.now() < deadline; i++) {
    const roll = Math.random();
    if (live.length < 6 && (roll < 0.45 || live.length === 0)) {
      const make = lossless[rand(0, lossless.length - 1)]!;
      const name = `t${i}`;
      const stream = Math.random() < 0.5 ? 'upstream' : 'downstream';
      expect(await call('POST', '/proxies/p/toxics', { name, stream, ...make() })).toBe(200);
      live.push({ name, make });
    } else if (roll < 0.7) {
      const t = live[rand(0, live.length - 1)]!;
      const { attributes } = t.make() as { attributes: object };
      expect(await call('PATCH', `/proxies/p/toxics/${t.name}`, { attributes })).toBe(200);
    } else {
      const [t] = live.splice(rand(0, live.length - 1), 1);
      expect(await call('DELETE', `/proxies/p/toxics/${t!.name}`)).toBe(204);
    }
    ops++;
    await sleep(rand(0, 15));
  }
  for (const t of talkers) t.stop();
  await Promise.all(runs);
  expect(await call('POST', '/reset')).toBe(204);
  const until = performance.now() + 10_000;
  while (talkers.some((t) => t.received < t.sent) && performance.now() < until) await sleep(20);
  expect(ops).toBeGreaterThan(50);
  for (const t of talkers) {
    expect(t.mismatchAt).toBe(-1);
    expect(t.received).toBe(t.sent);
    expect(t.sent).toBeGreaterThan(10_000);
  }
}, 30_000);
