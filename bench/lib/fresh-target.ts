/**
 * A fresh system under test for one measured side of a macro benchmark: the reference server
 * (memory store, no rate limit) and an embedded Toxiproxy, each in its own child process; and,
 * for a bare `ws` client, the same hop the harness crosses: a proxy (with the same latency toxic
 * downstream when given) in front of the provisioned server.
 */
import { startChild, type ChildService } from '../../src/net/child.ts';
import { startProxy } from '../measure-child.ts';
import { referenceDriver } from '../../src/drivers/reference.ts';
import type { Plan } from '../../src/plan/plan.ts';

export interface FreshTarget {
  server: ChildService;
  /** The proxy's API; its process id only when started without node flags. */
  proxyApi: { url: string; pid?: number; stop(): Promise<void> };
  stop(): Promise<void>;
}

/** `proxyFlags`: node flags for the proxy process (e.g. `--cpu-prof`, see measure-child.ts). */
export async function startFreshTarget(proxyFlags: string[] = []): Promise<FreshTarget> {
  const server = await startChild(['serve', '--port', '0', '--store', 'memory', '--rate-limit', '0'], /listening on (ws:\/\/\S+)/, 'reference server');
  // Without flags, a ChildService: its pid lets a bench read the proxy's CPU.
  const proxy = proxyFlags.length === 0 ? startChild(['proxy', '--port', '0'], /listening on (http:\/\/\S+)/, 'embedded proxy') : startProxy(proxyFlags);
  const proxyApi = await proxy.catch(async (err: unknown) => {
    await server.stop();
    throw err;
  });
  return {
    server,
    proxyApi,
    stop: async () => {
      await proxyApi.stop();
      await server.stop();
    },
  };
}

/**
 * Provision the plan's accounts on the server (as the reference driver does) and open a proxy
 * `name` to it, with a `latencyMs` latency toxic downstream when above 0; resolves with the
 * `ws://` URL a bare client connects to.
 */
export async function bareProxy(t: FreshTarget, plan: Plan, name: string, latencyMs = 0): Promise<string> {
  await referenceDriver.provision({ runId: `bench-${name}`, url: t.server.url, accounts: plan.accounts, conversations: plan.conversations });
  const res = await fetch(`${t.proxyApi.url}/proxies`, { method: 'POST', body: JSON.stringify({ name, listen: '127.0.0.1:0', upstream: new URL(t.server.url).host }) });
  const listen = ((await res.json()) as { listen: string }).listen;
  if (latencyMs > 0) {
    const toxic = await fetch(`${t.proxyApi.url}/proxies/${name}/toxics`, { method: 'POST', body: JSON.stringify({ type: 'latency', stream: 'downstream', attributes: { latency: latencyMs } }) });
    if (!toxic.ok) throw new Error(`could not add the latency toxic: ${toxic.status} ${await toxic.text()}`);
  }
  return `ws://127.0.0.1:${listen.slice(listen.lastIndexOf(':') + 1)}`;
}
