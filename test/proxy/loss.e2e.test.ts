import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { registerToxic } from '../../src/proxy/index.ts';
import { createLoss, loss } from '../../src/proxy/toxics/loss.ts';
import { Harness, readBytes } from './harness.ts';

/**
 * The `loss` toxic on real sockets. Which transmission attempts are lost is scripted through the
 * toxic's random source (registered in place of the default one), so stall durations are known
 * exactly; timing assertions allow timers to fire late on a loaded machine (stated per test) but
 * never early.
 */

let h: Harness;
beforeEach(async () => {
  h = await new Harness().start();
});
afterEach(async () => {
  registerToxic(loss);
  await h.close();
});

/** Timers may fire up to 1 ms early against performance.now(); never more. */
const EARLY_MS = 1;
/** How late a stall may end on a loaded 2-core machine (timers, scheduling, the test's own reads). */
const LATE_MS = 400;

/** A random source answering `values` in order, then `rest` forever. */
function scripted(values: number[], rest = 0.99): () => number {
  let i = 0;
  return () => (i < values.length ? (values[i++] as number) : rest);
}

/** mulberry32: a small seeded PRNG, so a long run's losses are the same every time. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function lossyProxy(payload: Buffer, attributes: Record<string, number>): Promise<number> {
  const upstream = await h.server((s) => s.end(payload));
  const port = await h.proxy('p', upstream);
  const res = await fetch(`${h.toxiproxy.url}/proxies/p/toxics`, { method: 'POST', body: JSON.stringify({ type: 'loss', attributes }) });
  expect(res.status).toBe(200);
  await res.text();
  return port;
}

/** Arrival time (ms since `t0`) of each byte offset where a new batch of data arrived. */
function arrivals(s: import('node:net').Socket, t0: number): { at: number; bytes: number }[] {
  const out: { at: number; bytes: number }[] = [];
  let bytes = 0;
  s.on('data', (d: Buffer) => {
    bytes += d.length;
    out.push({ at: performance.now() - t0, bytes });
  });
  return out;
}

describe('loss toxic (chatstorm extension)', () => {
  it('stalls the stream for min_rto at a lost segment, holds everything behind it, and loses no byte', async () => {
    const payload = Buffer.from(Array.from({ length: 300 }, (_, i) => i % 256));
    // Segment 1 goes through (0.9 ≥ p), segment 2 is lost once (0.1 < p), its retransmission arrives.
    // A long RTO (400 ms) so that only a 400 ms freeze of this process could merge the two reads.
    registerToxic(createLoss({ random: scripted([0.9, 0.1, 0.9]) }));
    const port = await lossyProxy(payload, { probability_ppm: 500_000, segment_size: 100, min_rto: 400 });
    const t0 = performance.now(); // the upstream cannot send before this connection exists
    const s = await h.connect(port);
    const seen = arrivals(s, t0);
    const { data } = await readBytes(s, 300);
    expect(data).toEqual(payload);
    // The first segment is not held: it arrives alone; bytes 101..300 come together, one RTO
    // after the data left the upstream (which was after t0).
    expect(seen[0]?.bytes).toBe(100);
    expect(seen[1]?.bytes).toBe(300);
    expect(seen[1]?.at).toBeGreaterThanOrEqual(400 - EARLY_MS);
    expect(seen[1]?.at).toBeLessThan(400 + LATE_MS);
  });

  it('doubles the RTO while retransmissions are lost too (100 + 200 + 400 ms), capped by max_rto', async () => {
    const payload = Buffer.alloc(50, 7);
    registerToxic(createLoss({ random: scripted([0.1, 0.1, 0.1, 0.9]) }));
    const port = await lossyProxy(payload, { probability_ppm: 500_000, segment_size: 100, min_rto: 100 });
    const t0 = performance.now();
    const s = await h.connect(port);
    const { atMs } = await readBytes(s, 50);
    expect(atMs - t0).toBeGreaterThanOrEqual(700 - EARLY_MS);
    expect(atMs - t0).toBeLessThan(700 + LATE_MS);

    await h.close();
    h = await new Harness().start();
    registerToxic(createLoss({ random: scripted([0.1, 0.1, 0.1, 0.9]) }));
    const capped = await lossyProxy(payload, { probability_ppm: 500_000, segment_size: 100, min_rto: 100, max_rto: 150 });
    const t1 = performance.now();
    const s2 = await h.connect(capped);
    const second = await readBytes(s2, 50);
    // 100 + 150 + 150 ms: the doubling stops at max_rto.
    expect(second.atMs - t1).toBeGreaterThanOrEqual(400 - EARLY_MS);
    expect(second.atMs - t1).toBeLessThan(400 + LATE_MS);
  });

  it('with burst, a lost attempt makes the next one likely lost too (Gilbert chain), so the stall grows', async () => {
    // burst 2: leave the lossy state with probability 1/2. The same draws 0.1, 0.7, 0.2 mean:
    // independent (burst 0, p = 1/2): lost, delivered          → 100 ms
    // burst 2: enter (0.1 < 1/2), stay (0.7 ≥ 1/2), leave (0.2) → 100 + 200 ms
    const stallMs = async (burst: number): Promise<number> => {
      await h.close();
      h = await new Harness().start();
      registerToxic(createLoss({ random: scripted([0.1, 0.7, 0.2]) }));
      const port = await lossyProxy(Buffer.alloc(20, 3), { probability_ppm: 500_000, segment_size: 100, min_rto: 100, burst });
      const t0 = performance.now();
      const s = await h.connect(port);
      return (await readBytes(s, 20)).atMs - t0;
    };
    const independent = await stallMs(0);
    const bursty = await stallMs(2);
    expect(independent).toBeGreaterThanOrEqual(100 - EARLY_MS);
    expect(independent).toBeLessThan(100 + LATE_MS);
    expect(bursty).toBeGreaterThanOrEqual(300 - EARLY_MS);
    expect(bursty).toBeLessThan(300 + LATE_MS);
  });

  it('relays 400 KB at 5 % loss at the modelled rate: exact replay of the stalls, and within 1–5× of the Mathis TCP model', async () => {
    const segment = 1000;
    const segments = 400;
    const p = 0.05;
    const rtoMs = 20;
    const payload = Buffer.from(Array.from({ length: segment * segments }, (_, i) => (i * 7) % 256));
    registerToxic(createLoss({ random: seeded(42) }));
    // Replay the model on the same random sequence: total stall the toxic must add.
    const replay = seeded(42);
    let modelStallMs = 0;
    let losses = 0;
    for (let i = 0; i < segments; i++) {
      let rto = rtoMs;
      while (replay() < p) {
        losses++;
        modelStallMs += rto;
        rto = Math.min(rto * 2, 60_000);
      }
    }
    const port = await lossyProxy(payload, { probability_ppm: p * 1e6, segment_size: segment, min_rto: rtoMs });
    const t0 = performance.now();
    const s = await h.connect(port);
    const { data, atMs } = await readBytes(s, payload.length);
    expect(data).toEqual(payload);
    const elapsedMs = atMs - t0;
    expect(losses).toBeGreaterThan(10); // the seed gives a real test: ~20 expected
    // Never faster than the stalls it owes; late timers add at most LATE_MS plus 5 ms per stall.
    expect(elapsedMs).toBeGreaterThanOrEqual(modelStallMs - EARLY_MS * losses);
    expect(elapsedMs).toBeLessThan(modelStallMs + LATE_MS + 5 * losses);
    // Mathis et al. (1997): throughput ≈ MSS / RTT · sqrt(3/2) / sqrt(p), here with RTT = min_rto.
    // This toxic models the stalls only, not the congestion window, so it is faster than TCP at
    // low loss rates: the expected ratio is 1 / (sqrt(3/2) · sqrt(p) · E[backoff]) ≈ 3.3 at 5 %.
    const throughput = payload.length / (elapsedMs / 1000);
    const mathis = ((segment / (rtoMs / 1000)) * Math.sqrt(1.5)) / Math.sqrt(p);
    const ratio = throughput / mathis;
    console.log(`loss 5 %: ${losses} lost attempts, model stall ${modelStallMs} ms, took ${elapsedMs.toFixed(0)} ms, ${(throughput / 1000).toFixed(0)} KB/s, Mathis ${(mathis / 1000).toFixed(0)} KB/s, ratio ${ratio.toFixed(2)}`);
    expect(ratio).toBeGreaterThan(1);
    expect(ratio).toBeLessThan(5);
  });

  it('is refused with a clear 400 when max_rto is below min_rto, and takes no fractional rate', async () => {
    await lossyProxy(Buffer.alloc(1), {});
    const bad = await fetch(`${h.toxiproxy.url}/proxies/p/toxics`, {
      method: 'POST',
      body: JSON.stringify({ name: 'l2', type: 'loss', attributes: { min_rto: 300, max_rto: 100 } }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toBe('toxic attribute `max_rto` must be at least `min_rto` (ms), got 100 with min_rto 300');
    const frac = await fetch(`${h.toxiproxy.url}/proxies/p/toxics`, { method: 'POST', body: JSON.stringify({ name: 'l3', type: 'loss', attributes: { probability_ppm: 0.5 } }) });
    expect(frac.status).toBe(400);
    await frac.text();
  });
});
