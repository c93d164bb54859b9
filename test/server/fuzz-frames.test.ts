/**
 * Bounded fuzzing of the reference server over a real WebSocket (fast-check): valid frames,
 * valid frames with one field mutated (wrong type, huge or negative value, long string, removed,
 * unknown key added), random text, random JSON and random binary frames, all from one device.
 *
 * After each input a ping must come back (the server is alive and the connection usable), every
 * frame the server sent meanwhile must be a well-formed protocol frame, an `error` must carry a
 * documented code and a message, and input the protocol refuses must get an `error` with its
 * code. A connection may end only with a documented close code and a reason (4400 after too many
 * errors, 4413 for an oversized frame); the device then reconnects. Afterwards, two other devices
 * still send, get acks and deliveries. Run counts are fixed (NUM_RUNS): seconds on a loaded machine.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MESSAGE_KINDS, MAX_ATTACHMENT_BYTES, encodeChunk } from '../../src/protocol/frames.ts';
import { parseClientFrame } from '../../src/server/client-frame-schema.ts';
import { startReferenceServer, type ReferenceServer } from '../../src/server/index.ts';
import { FIXTURE, RawClient, TOKENS, postJson, type Frame } from './raw-client.ts';

const NUM_RUNS = Number(process.env['CHATSTORM_FUZZ_RUNS'] ?? 300);
const SEED = Number(process.env['CHATSTORM_FUZZ_SEED'] ?? 0);
/** Small, so that oversized frames (closed with 4413) are cheap to make. */
const MAX_FRAME_BYTES = 64 * 1024;

const SERVER_FRAMES = new Set(['welcome', 'ack', 'nack', 'msg', 'synced', 'unread', 'page', 'error', 'pong', 'uploaded', 'download-start', 'download-done']);
/** Error codes of docs/protocol.md §7–8. */
const ERROR_CODES = new Set(['bad-json', 'bad-frame', 'unknown-type', 'not-member', 'unknown-conv', 'bad-chunk', 'unknown-upload', 'bad-upload', 'unknown-attachment', 'unavailable']);
const NACK_CODES = new Set(['rate-limited', 'not-member', 'too-large', 'invalid', 'unavailable']);
const CLOSE_CODES = new Set([4400, 4413]);

type Input = { kind: 'text'; text: string } | { kind: 'binary'; bytes: Uint8Array };

// ------------------------------------------------------------------ generators

const conv = fc.constantFrom('ac', 'grp', 'nope', '');
const smallId = fc.oneof(fc.constantFrom('u1', 'u2', 'd1', 'k1'), fc.string({ maxLength: 8 }));
const sha = fc.oneof(fc.stringMatching(/^[0-9a-f]{64}$/), fc.string({ maxLength: 70 }));
const ref = fc.record({ id: smallId, name: fc.string({ maxLength: 10 }), mime: fc.string({ maxLength: 10 }), size: fc.integer({ min: -1, max: MAX_ATTACHMENT_BYTES + 1 }), sha256: sha });

const validFrame: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.record(
    { t: fc.constant('send'), cid: smallId, conv, kind: fc.constantFrom(...MESSAGE_KINDS), body: fc.string({ maxLength: 100 }), attachments: fc.array(ref, { maxLength: 3 }) },
    { requiredKeys: ['t', 'cid', 'conv', 'kind', 'body'] },
  ),
  fc.record({ t: fc.constant('sync'), cursors: fc.dictionary(conv, fc.nat(), { maxKeys: 3 }) }),
  fc.record(
    { t: fc.constant('history'), req: smallId, conv, before: fc.nat(), after: fc.nat(), limit: fc.integer({ min: -5, max: 300 }) },
    { requiredKeys: ['t', 'req', 'conv'] },
  ),
  fc.record({ t: fc.constant('read'), conv, seq: fc.nat() }),
  fc.record({ t: fc.constant('ping'), ts: fc.double({ noNaN: true }) }, { requiredKeys: ['t'] }),
  fc.record({ t: fc.constant('upload-start'), up: smallId, name: fc.string({ maxLength: 10 }), mime: fc.string({ maxLength: 10 }), size: fc.integer({ min: -1, max: MAX_ATTACHMENT_BYTES + 1 }), sha256: sha }),
  fc.record({ t: fc.constant('upload-done'), up: smallId }),
  fc.record({ t: fc.constant('download'), req: smallId, id: smallId }),
);

/** Wrong types, out-of-range and huge values (some longer than the frame limit). */
const weird = fc.oneof(
  fc.anything({ maxDepth: 2 }),
  fc.constantFrom(-1, 0, 1e308, -1e308, 2 ** 53, -(2 ** 53), 0.5, '', null, true, [], {}, '__proto__', 'constructor'),
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 50 }),
  fc.nat({ max: 2 * MAX_FRAME_BYTES }).map((n) => 'x'.repeat(n)),
  fc.array(fc.nat(), { maxLength: 2000 }),
);

const mutatedFrame = fc.tuple(validFrame, fc.nat(), weird, fc.constantFrom('replace', 'delete', 'add'), fc.string({ minLength: 1, maxLength: 10 })).map(([f, i, value, how, key]) => {
  const out: Record<string, unknown> = { ...f };
  const keys = Object.keys(out);
  const k = keys[i % keys.length] as string;
  if (how === 'replace') out[k] = value;
  else if (how === 'delete') delete out[k];
  else out[key] = value;
  return out;
});

const text: fc.Arbitrary<Input> = fc
  .oneof(
    { weight: 3, arbitrary: validFrame.map((f) => JSON.stringify(f)) },
    { weight: 6, arbitrary: mutatedFrame.map((f) => JSON.stringify(f)) },
    { weight: 1, arbitrary: fc.string({ maxLength: 200, unit: 'binary' }) },
    { weight: 1, arbitrary: fc.json({ maxDepth: 3 }) },
    { weight: 1, arbitrary: fc.constantFrom('', '{', '[]', 'null', '"t"', '{"t":null}', '{"t":"__proto__"}', '{"__proto__":{"t":"ping"}}', '{"t":"ping","ts":1e999}') },
  )
  .map((s) => ({ kind: 'text' as const, text: s }));

const binary: fc.Arbitrary<Input> = fc
  .oneof(
    fc.uint8Array({ maxLength: 300 }),
    // A well-formed chunk header for an id that may be an open upload.
    fc.tuple(fc.constantFrom('u1', 'u2', 'x'), fc.uint8Array({ maxLength: 2000 })).map(([id, payload]) => new Uint8Array(encodeChunk(id, payload))),
    fc.nat({ max: 2 * MAX_FRAME_BYTES }).map((n) => new Uint8Array(n)),
  )
  .map((bytes) => ({ kind: 'binary' as const, bytes }));

const input = fc.oneof({ weight: 4, arbitrary: text }, { weight: 1, arbitrary: binary });

// ------------------------------------------------------------------ the property

describe('reference server under garbage frames', () => {
  let server: ReferenceServer;
  const log: string[] = [];
  let attacker: RawClient;
  const tally = { inputs: 0, text: 0, binary: 0, errors: 0, nacks: 0, closes: {} as Record<number, number> };

  beforeAll(async () => {
    server = await startReferenceServer({ port: 0, store: 'memory', maxFrameBytes: MAX_FRAME_BYTES, log: (l) => log.push(l) });
    await postJson(server.url, '/admin/provision', FIXTURE);
    attacker = await RawClient.live(server.url, 'c1', TOKENS['c1']!);
  });
  afterAll(async () => {
    attacker.close();
    await server.close();
  });

  function checkFrame(f: Frame): void {
    expect(SERVER_FRAMES.has(f.t), `unknown server frame ${JSON.stringify(f).slice(0, 200)}`).toBe(true);
    if (f.t === 'error') {
      tally.errors++;
      expect(ERROR_CODES.has(f.code as string), `undocumented error code ${String(f.code)}`).toBe(true);
      expect(typeof f.message === 'string' && f.message.length > 0).toBe(true);
    }
    if (f.t === 'nack') {
      tally.nacks++;
      expect(NACK_CODES.has(f.code as string), `undocumented nack code ${String(f.code)}`).toBe(true);
      expect(typeof f.message === 'string' && f.message.length > 0).toBe(true);
    }
  }

  let pings = 0;
  async function roundTrip(inp: Input): Promise<void> {
    tally.inputs++;
    tally[inp.kind]++;
    if (attacker.ws.readyState !== attacker.ws.OPEN) attacker = await RawClient.live(server.url, 'c1', TOKENS['c1']!);
    const from = attacker.frames.length;
    if (inp.kind === 'text') attacker.sendText(inp.text);
    else attacker.ws.send(inp.bytes, { binary: true });
    const ts = ++pings + 0.25;
    attacker.send({ t: 'ping', ts });
    let alive = true;
    try {
      await attacker.waitFor((f) => f.t === 'pong' && f.ts === ts, 10_000);
    } catch {
      alive = false;
    }
    const answers = attacker.frames.slice(from);
    for (const f of answers) checkFrame(f);
    if (!alive) {
      const c = await attacker.closed;
      tally.closes[c.code] = (tally.closes[c.code] ?? 0) + 1;
      expect(CLOSE_CODES.has(c.code), `closed with ${c.code} ${c.reason}`).toBe(true);
      expect(c.reason.length).toBeGreaterThan(0);
      return;
    }
    if (inp.kind === 'text' && Buffer.byteLength(inp.text) <= MAX_FRAME_BYTES) {
      const parsed = parseClientFrame(inp.text);
      if (parsed.state === 'invalid') {
        expect(answers.some((f) => f.t === 'error' && f.code === parsed.code), `no ${parsed.code} error for ${inp.text.slice(0, 200)}`).toBe(true);
      }
    }
  }

  it('stays up and answers every input with well-formed frames or a documented close', async () => {
    await fc.assert(fc.asyncProperty(input, roundTrip), { numRuns: NUM_RUNS, seed: SEED + 21 });
    expect(log.filter((l) => /error handling|failed/.test(l))).toEqual([]);
  }, 120_000);

  it('still carries correct traffic between other devices afterwards: send, ack, delivery', async () => {
    const [a1, x1] = await Promise.all([RawClient.live(server.url, 'a1', TOKENS['a1']!), RawClient.live(server.url, 'x1', TOKENS['x1']!)]);
    try {
      a1.send({ t: 'send', cid: 'after-fuzz', conv: 'grp', kind: 'text', body: 'still fine?' });
      expect(await a1.waitFor((f) => f.t === 'ack' && f.cid === 'after-fuzz')).toMatchObject({ conv: 'grp' });
      expect(await x1.waitFor((f) => f.t === 'msg' && f.cid === 'after-fuzz')).toMatchObject({ body: 'still fine?', from: { account: 'A', device: 'a1' } });
      const health = await fetch(server.url.replace(/^ws/, 'http') + '/health');
      expect(health.status).toBe(200);
    } finally {
      a1.close();
      x1.close();
    }
    expect(tally.inputs).toBeGreaterThanOrEqual(NUM_RUNS);
    console.log(`server frame fuzz: ${JSON.stringify(tally)}`);
  });
});

describe('reference server admin API under garbage bodies', () => {
  let server: ReferenceServer;
  beforeAll(async () => {
    server = await startReferenceServer({ port: 0, store: 'memory' });
  });
  afterAll(async () => {
    await server.close();
  });

  /** FIXTURE with one value somewhere inside replaced, removed, or a key added. */
  const mutatedProvision = fc.tuple(fc.nat(), weird, fc.constantFrom('replace', 'delete', 'add')).map(([i, value, how]) => {
    const copy = structuredClone(FIXTURE) as unknown as Record<string, unknown>;
    const spots: [Record<string, unknown>, string][] = [];
    const walk = (v: unknown): void => {
      if (v === null || typeof v !== 'object') return;
      for (const [k, child] of Object.entries(v)) {
        spots.push([v as Record<string, unknown>, k]);
        walk(child);
      }
    };
    walk(copy);
    const [obj, k] = spots[i % spots.length]!;
    if (how === 'replace') obj[k] = value;
    else if (how === 'delete') delete obj[k];
    else obj[`${k}_extra`] = value;
    return JSON.stringify(copy);
  });
  const body = fc.oneof(
    { weight: 4, arbitrary: mutatedProvision.map((b) => ({ path: '/admin/provision', b })) },
    { weight: 1, arbitrary: fc.json({ maxDepth: 3 }).map((b) => ({ path: '/admin/provision', b })) },
    { weight: 1, arbitrary: fc.json({ maxDepth: 3 }).map((b) => ({ path: '/admin/preload', b })) },
    { weight: 1, arbitrary: fc.string({ maxLength: 100, unit: 'binary' }).map((b) => ({ path: '/admin/preload', b })) },
  );

  it('answers every body with 200 or a 4xx JSON error naming the problem, never 500', async () => {
    const statuses: Record<number, number> = {};
    await fc.assert(
      fc.asyncProperty(body, async ({ path, b }) => {
        const res = await fetch(server.url.replace(/^ws/, 'http') + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: b });
        const json = (await res.json()) as { ok: boolean; error?: string };
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        expect([200, 400, 404, 409, 413], `${res.status} ${json.error ?? ''} for ${b.slice(0, 200)}`).toContain(res.status);
        if (res.status !== 200) expect(json.ok === false && typeof json.error === 'string' && json.error.length > 0).toBe(true);
      }),
      { numRuns: NUM_RUNS, seed: SEED + 22 },
    );
    expect((await fetch(server.url.replace(/^ws/, 'http') + '/health')).status).toBe(200);
    console.log(`admin body fuzz: ${NUM_RUNS} bodies, statuses ${JSON.stringify(statuses)}`);
  }, 120_000);
});
