/**
 * wss:// targets as staging servers have them: TLS with a self-signed certificate made here, a
 * host name, an ingress path and a query. Devices dial the embedded proxy; TLS passes through
 * it, and the client must still use the target's name for SNI, the certificate check and `Host`.
 *
 *   device --TCP--> embedded proxy --TCP--> TLS front "localhost" (this test) --TCP--> reference server
 *                                           routes /chat/ws -> /ws (an ingress)
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runScenario } from '../../src/cli/run-command.ts';
import { startReferenceServer, type ReferenceServer } from '../../src/server/index.ts';

const run = promisify(execFile);

const scenario = {
  name: 'tls',
  seed: 5,
  duration: '1s',
  grace: '4s',
  networks: { lan: { toxics: [{ type: 'latency', attributes: { latency: 10 } }] } },
  population: { agents: { count: 1, devices: ['desktop', 'mobile'], network: 'lan' }, customers: { count: 3, devices: ['mobile'], network: 'lan' } },
  traffic: { arrival: { model: 'constant', over: '500ms' }, messagesPerCustomer: { min: 2, max: 2 }, thinkTime: { min: '100ms', max: '200ms' } },
  sla: ['loss == 0'],
};

/** What the TLS front saw on each connection: the SNI name and the first request line and Host. */
interface Seen {
  servername: string | false | null;
  request: string;
  host: string | undefined;
}

describe('a wss:// target with a self-signed certificate, through the embedded proxy', () => {
  let dir: string;
  // A fresh server for each run: a second run of the same plan on one server would reuse its
  // client ids, which the server deduplicates.
  let server: ReferenceServer | null = null;
  let front: TlsServer;
  let target: string;
  const seen: Seen[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'chatstorm-tls-'));
    await run('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ]);
    front = createTlsServer({ key: await readFile(join(dir, 'key.pem')), cert: await readFile(join(dir, 'cert.pem')) }, (tls: TLSSocket) => {
      const up = connect(Number(new URL((server as ReferenceServer).url).port), '127.0.0.1');
      let first = true;
      tls.on('data', (chunk: Buffer) => {
        if (first) {
          first = false;
          const text = chunk.toString('latin1');
          const [line = ''] = text.split('\r\n');
          seen.push({ servername: tls.servername, request: line, host: /\r\nhost: ([^\r]*)/i.exec(text)?.[1] });
          // The ingress: this server lives under /chat; the reference server answers at /ws.
          chunk = Buffer.from(text.replace(/^GET \/chat\/ws\?/, 'GET /ws?'), 'latin1');
        }
        up.write(chunk);
      });
      up.pipe(tls);
      tls.on('error', () => up.destroy());
      up.on('error', () => tls.destroy());
      tls.on('close', () => up.destroy());
    });
    await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
    target = `wss://localhost:${(front.address() as { port: number }).port}/chat?tenant=eu`;
  });
  beforeEach(async () => {
    server = await startReferenceServer({ host: '127.0.0.1', port: 0, store: 'memory' });
  });
  afterEach(async () => {
    await server?.close();
    server = null;
  });
  afterAll(async () => {
    await new Promise<void>((r) => front?.close(() => r()));
    await rm(dir, { recursive: true, force: true });
  });

  it('passes with --ca, using the target host for SNI, the certificate and Host, and keeping path and query', { timeout: 120_000 }, async () => {
    seen.length = 0;
    const r = await runScenario({ scenario, target, ca: join(dir, 'cert.pem'), toxiproxy: 'embedded', out: join(dir, 'reports'), maxSenderLagMs: 5000, allowHarnessLag: true });
    expect(r.summary.error ?? null).toBeNull();
    expect(r.exitCode).toBe(0);
    const port = new URL(target).port;
    const upgrades = seen.filter((s) => s.request.startsWith('GET '));
    expect(upgrades.length).toBe(5); // every device: 1 agent x 2 + 3 customers x 1
    for (const s of upgrades) {
      expect(s.request).toMatch(/^GET \/chat\/ws\?tenant=eu&device=[^ ]+&token=/);
      expect(s.host).toBe(`localhost:${port}`);
    }
    // Every TLS connection (provisioning included) named the target's host, not the proxy's address.
    expect(seen.length).toBeGreaterThan(upgrades.length);
    expect(new Set(seen.map((s) => s.servername))).toEqual(new Set(['localhost']));
    expect(seen.some((s) => s.request.startsWith('POST /admin/provision '))).toBe(true);
  });

  it('passes with --insecure', { timeout: 120_000 }, async () => {
    const r = await runScenario({ scenario, target, insecure: true, toxiproxy: 'embedded', out: join(dir, 'reports'), maxSenderLagMs: 5000, allowHarnessLag: true });
    expect(r.exitCode, JSON.stringify(r.summary, null, 1)).toBe(0);
  });

  it('refuses the self-signed certificate without either, saying which flag fixes it', async () => {
    const r = await runScenario({ scenario, target, toxiproxy: 'embedded', out: join(dir, 'reports') });
    expect(r.exitCode).toBe(3);
    const err = r.summary.error ?? '';
    expect(err).toContain('DEPTH_ZERO_SELF_SIGNED_CERT');
    expect(err).toContain('pass --ca FILE (PEM) to trust it, or --insecure to skip verification');
  });
});
