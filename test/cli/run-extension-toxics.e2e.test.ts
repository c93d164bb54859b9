/**
 * A scenario that uses an extension toxic (`loss`, which only chatstorm's embedded proxy has):
 * against a real Toxiproxy it is refused before anything starts (exit 2, naming each field);
 * against the embedded proxy it runs.
 *
 * The "real Toxiproxy" is a fake API on 127.0.0.1 that answers `GET /version` as Toxiproxy 2.12
 * does (no `X-Toxiproxy-Implementation` header) and records every request: a refusal "before
 * anything starts" means it saw nothing but that one question. Anything else gets Toxiproxy's
 * `invalid toxic type` 400 for toxics, and 500 otherwise, so a run that went on would show.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runChatstorm } from '../net/processes.ts';

const chatstorm = (args: string[]) => runChatstorm(args);

describe('chatstorm run with the loss toxic', () => {
  let out: string;
  let fake: Server;
  let fakeUrl: string;
  const requests: string[] = [];
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'chatstorm-loss-'));
    fake = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      req.resume();
      if (req.method === 'GET' && req.url === '/version') {
        res.writeHead(200, { 'Content-Type': 'application/json;charset=utf-8' }).end('{"version": "2.12.0"}\n');
      } else if (req.url?.endsWith('/toxics')) {
        res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' }).end('{"error":"invalid toxic type","status":400}\n');
      } else {
        res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end('{"error":"not expected by this test","status":500}\n');
      }
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    fakeUrl = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((r) => fake.close(() => r()));
    await rm(out, { recursive: true, force: true });
  });

  it('refuses it against a real Toxiproxy before anything starts: exit 2, each field named, embedded proxy only', async () => {
    const dir = join(out, 'real');
    const r = await chatstorm(['run', 'test/fixtures/lossy.ts', '--toxiproxy', fakeUrl, '--out', dir, '--quiet']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('networks.customers.toxics[0].type: toxic type `loss` exists only in chatstorm\'s embedded proxy');
    expect(r.stderr).toContain(`the Toxiproxy at ${fakeUrl} is a real Toxiproxy`);
    expect(r.stderr).toContain('faults[0].toxic.type: toxic type `loss`');
    expect(r.stderr).toContain('--toxiproxy embedded');
    // Nothing was created: the version (which tells a real Toxiproxy from ours) and the list of
    // proxies (read for proxies a killed run left behind) are all it was asked.
    expect(requests.sort()).toEqual(['GET /proxies', 'GET /version']);
  });

  it('runs it on the embedded proxy', async () => {
    const dir = join(out, 'embedded');
    // It judges that the run is accepted and plays, not its delays (docs/honesty.md).
    const r = await chatstorm(['run', 'test/fixtures/lossy.ts', '--toxiproxy', 'embedded', '--out', dir, '--quiet', '--allow-harness-lag']);
    expect(r.stderr).not.toContain('exists only in');
    expect(r.code).toBe(0);
    expect(await readdir(dir)).toHaveLength(1);
  });
});
