import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReferenceServer, type ReferenceServer } from '../../src/server/index.ts';
import { ClientPool, FIXTURE, postJson, type Frame } from './raw-client.ts';

// One million messages in one conversation: preload time and page latency are printed, and a
// page must come back within 50 ms anywhere in the history (generous: measured ~1 ms).
describe('history paging on 1,000,000 messages in one conversation (SQLite)', () => {
  let server: ReferenceServer;
  const pool = new ClientPool();
  let preloadMs = 0;

  beforeAll(async () => {
    server = await startReferenceServer({ port: 0, store: 'sqlite' });
    await postJson(server.url, '/admin/provision', FIXTURE);
    const res = await postJson(server.url, '/admin/preload', { conv: 'grp', count: 1_000_000, spanDays: 120 });
    expect(res.status).toBe(200);
    preloadMs = res.json.elapsedMs as number;
    console.log(`preloaded 1,000,000 messages in ${Math.round(preloadMs)} ms`);
  }, 120_000);
  afterAll(async () => {
    pool.closeAll();
    await server.close();
  });

  it('serves newest, deep and forward pages within 50 ms each, complete and contiguous', async () => {
    const a1 = await pool.live(server.url, 'a1', {});
    const timed = async (req: string, q: Record<string, number>): Promise<{ page: Frame; ms: number }> => {
      const t0 = performance.now();
      a1.send({ t: 'history', req, conv: 'grp', limit: 200, ...q });
      const page = await a1.waitFor((f) => f.t === 'page' && f.req === req);
      return { page, ms: performance.now() - t0 };
    };
    await timed('warm', {});
    const cases: [string, Record<string, number>, number][] = [
      ['newest', {}, 999_801],
      ['middle', { before: 500_001 }, 499_801],
      ['oldest', { before: 201 }, 1],
      ['forward', { after: 250_000 }, 250_001],
    ];
    for (const [req, q, first] of cases) {
      const { page, ms } = await timed(req, q);
      const seqs = (page.messages as Frame[]).map((m) => m.seq as number);
      console.log(`page ${req}: ${ms.toFixed(2)} ms`);
      expect(seqs).toEqual(Array.from({ length: 200 }, (_, i) => first + i));
      expect(ms).toBeLessThan(50);
    }
    a1.send({ t: 'read', conv: 'grp', seq: 999_990 });
    expect(await a1.waitFor((f) => f.t === 'unread')).toMatchObject({ readSeq: 999_990 });
  });
});
