/**
 * A Toxiproxy that accepts and never answers (a paused container) must not hang a run: every call
 * is bounded, a timeout names the call and the API, and teardown tries every proxy and reports the
 * ones it could not remove. A fake API on 127.0.0.1 port 0; timeouts of 200 ms keep this short.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Proxy, Toxiproxy } from 'toxiproxy-node-client';
import { addToxic, createNetworks, removeNetworks, removeToxic, setEnabled, type Network } from '../../src/net/networks.ts';
import { ToxiproxyTimeoutError, toxiproxyCall } from '../../src/net/toxiproxy-call.ts';
import { runProxyName } from '../../src/net/proxy-name.ts';
import { preflightToxics } from '../../src/run/toxic-preflight.ts';
import { FaultPlayer } from '../../src/run/fault-player.ts';
import { Timeline } from '../../src/run/timeline.ts';
import { Recorder } from '../../src/history/recorder.ts';
import type { Plan } from '../../src/plan/plan.ts';
import type { PlannedFault } from '../../src/plan/faults.ts';

const T = 200;
const latency = { type: 'latency' as const, stream: 'downstream' as const, toxicity: 1, attributes: { latency: 100 } };

// 5 s per test: a regression (an unbounded call) fails here instead of hanging the suite.
describe('Toxiproxy calls against an API that never answers', { timeout: 5_000 }, () => {
  let server: Server;
  let url: string;
  let requests: string[];
  beforeEach(async () => {
    requests = [];
    // Answers only DELETE of proxies named `*-ok` (204) or `*-broken` (500); everything else hangs.
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      requests.push(`${req.method} ${req.url}`);
      if (req.method === 'DELETE' && req.url?.endsWith('-ok')) res.writeHead(204).end();
      else if (req.method === 'DELETE' && req.url?.endsWith('-broken')) res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"boom"}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const proxyNamed = (name: string) => new Proxy(new Toxiproxy(url), { name, listen: '127.0.0.1:1', upstream: '127.0.0.1:2', enabled: true, toxics: [] } as never);
  const net = (name: string): Network => ({ name, url: 'ws://127.0.0.1:1', proxy: proxyNamed(name) });
  const rejection = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e);

  it('toxiproxyCall rejects with a ToxiproxyTimeoutError naming the call and the API', async () => {
    const err = await rejection(toxiproxyCall('create proxy x', url, () => new Promise(() => {}), T));
    expect(err).toBeInstanceOf(ToxiproxyTimeoutError);
    expect((err as ToxiproxyTimeoutError).code).toBe('CHATSTORM_ERR_TOXIPROXY_TIMEOUT');
    expect((err as Error).message).toBe(
      `Toxiproxy at ${url} did not answer "create proxy x" within 0.2 s. Is it paused or overloaded (\`docker ps\`, \`docker unpause\`)? Or run with \`--toxiproxy embedded\`.`,
    );
  });

  it('bounds proxy creation, toxic changes and outages', async () => {
    const create = await rejection(createNetworks(new Toxiproxy(url), 'r1', '127.0.0.1:9', { lan: { toxics: [] } }, undefined, T));
    expect(create).toBeInstanceOf(ToxiproxyTimeoutError);
    expect((create as Error).message).toContain(`Toxiproxy at ${url} did not answer "create proxy ${runProxyName('r1', 'lan')}"`);
    const n = net('chatstorm-r1-lan');
    const add = await rejection(addToxic(n.proxy, latency, 'slow', 'faults[0].toxic', T));
    // A timeout is not a rejected toxic (that would be a bad scenario, exit 2).
    expect(add).toBeInstanceOf(ToxiproxyTimeoutError);
    expect((add as Error).message).toContain('"add toxic slow to chatstorm-r1-lan"');
    expect(await rejection(removeToxic(n.proxy, 'slow', T))).toBeInstanceOf(ToxiproxyTimeoutError);
    expect((await rejection(setEnabled(n, false, T)) as Error).message).toContain('"disable proxy chatstorm-r1-lan"');
  });

  it('the toxic preflight times out as an infrastructure error, not as a bad scenario', async () => {
    const plan = { scenario: 's', networks: { lan: { toxics: [latency] } }, faults: [] } as unknown as Plan;
    const err = await rejection(preflightToxics(new Toxiproxy(url), 'chatstorm-r1', '127.0.0.1:9', plan, T));
    expect(err).toBeInstanceOf(ToxiproxyTimeoutError);
    expect((err as Error).message).toContain('"create proxy chatstorm-r1-preflight"');
  });

  it('removeNetworks tries every proxy and returns the ones left behind, with why', async () => {
    const nets = new Map(['a-ok', 'b-hung', 'c-broken'].map((n) => [n, net(n)]));
    const left = await removeNetworks(nets, T);
    expect(requests.filter((r) => r.startsWith('DELETE')).sort()).toEqual(['DELETE /proxies/a-ok', 'DELETE /proxies/b-hung', 'DELETE /proxies/c-broken']);
    expect(left).toHaveLength(2);
    expect(left[0]).toMatch(new RegExp(`^b-hung at ${url} \\(Toxiproxy at ${url} did not answer "remove proxy b-hung" within 0.2 s`));
    expect(left[1]).toBe(`c-broken at ${url} (Request failed with status code 500)`);
  });

  it('a fault the proxy never answers fails the run once, and liftAll still returns', async () => {
    const recorder = new Recorder();
    const errors: string[] = [];
    const nets = new Map([['lan', net('chatstorm-r1-lan')]]);
    const player = new FaultPlayer({ nets, devices: new Map(), recorder, onError: (m) => errors.push(m), toxiproxyTimeoutMs: T });
    const fault: PlannedFault = { id: 'f0', network: 'lan', action: 'toxic', startMs: 0, endMs: null, toxic: { ...latency, name: 'slow' }, description: 'latency downstream latency=100' };
    const timeline = new Timeline(recorder);
    player.schedule(timeline, [fault], 1000);
    await timeline.start(recorder.now());
    await player.liftAll();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(new RegExp(`^fault f0 \\(latency downstream latency=100\\) could not be applied: Toxiproxy at ${url} did not answer "add toxic slow to chatstorm-r1-lan" within 0.2 s`));
    expect(player.activeCount).toBe(0);
  });
});
