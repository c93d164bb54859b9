/**
 * Network profiles: one Toxiproxy proxy per network of the scenario, created for the run and
 * removed afterwards (also when the run fails). Every device connects through its network's proxy.
 */
import type { Proxy, Toxiproxy } from 'toxiproxy-node-client';
import type { ToxicSpec } from '../scenario/schema.ts';
import { ChatstormError } from '../errors.ts';
import { describeToxiproxyError as describe } from './toxiproxy-error.ts';

/** The proxy rejected an operation (bad toxic attributes, name clash, ...). */
export class NetworkError extends ChatstormError {
  /** The proxy's own words, without the context this message adds (for callers that rephrase). */
  readonly reason: string;
  constructor(message: string, options?: { cause?: unknown; reason?: string }) {
    super('CHATSTORM_ERR_NETWORK', message, options);
    this.reason = options?.reason ?? message;
  }
}

export interface Network {
  name: string;
  /** `ws://127.0.0.1:PORT` — the server as seen through this network. */
  url: string;
  proxy: Proxy;
}

/**
 * Where proxies listen and where devices reach them. On this machine both are 127.0.0.1; with a
 * Toxiproxy on another host (a docker-compose service) proxies listen on all interfaces of that
 * host and devices connect to the host named in its API URL.
 */
export function proxyAddressing(toxiproxyUrl: string): { listenHost: string; connectHost: string } {
  const host = new URL(toxiproxyUrl).hostname.replace(/^\[|\]$/g, '');
  const local = host === 'localhost' || host === '::1' || host.startsWith('127.');
  return local ? { listenHost: '127.0.0.1', connectHost: '127.0.0.1' } : { listenHost: '0.0.0.0', connectHost: host };
}

/** Where a network's proxy lives: one Toxiproxy API, or one per network (several embedded processes). */
export type ProxyHost = Toxiproxy | { clientFor(network: string): { client: Toxiproxy; url: string } };

/** Create the run's proxies, pointing at `upstream` (`host:port`), with their base toxics. */
export async function createNetworks(
  host: ProxyHost,
  runId: string,
  upstream: string,
  networks: Record<string, { toxics: ToxicSpec[] }>,
  addressing?: { listenHost: string; connectHost: string },
): Promise<Map<string, Network>> {
  const out = new Map<string, Network>();
  try {
    for (const [name, profile] of Object.entries(networks)) {
      const api = 'clientFor' in host ? host.clientFor(name) : null;
      const client = api?.client ?? (host as Toxiproxy);
      addressing ??= api ? proxyAddressing(api.url) : { listenHost: '127.0.0.1', connectHost: '127.0.0.1' };
      const proxyName = `chatstorm-${runId}-${name}`;
      let proxy: Proxy;
      try {
        proxy = await client.createProxy({ name: proxyName, listen: `${addressing.listenHost}:0`, upstream });
      } catch (err) {
        throw new NetworkError(`could not create proxy ${proxyName} for network ${name}: ${describe(err)}`, { cause: err });
      }
      const port = proxy.listen.slice(proxy.listen.lastIndexOf(':') + 1);
      out.set(name, { name, url: `ws://${addressing.connectHost}:${port}`, proxy });
      for (const [i, t] of profile.toxics.entries()) await addToxic(proxy, t, t.name ?? `chatstorm_base${i}_${t.type}`, `networks.${name}.toxics[${i}]`);
    }
  } catch (err) {
    await removeNetworks(out);
    throw err;
  }
  return out;
}

/** Add a toxic; a rejection names the scenario field it came from. */
export async function addToxic(proxy: Proxy, t: ToxicSpec, name: string, field: string): Promise<void> {
  try {
    await proxy.addToxic({ name, type: t.type as never, stream: t.stream, toxicity: t.toxicity, attributes: t.attributes });
  } catch (err) {
    const reason = describe(err);
    throw new NetworkError(`${field}: the proxy rejected toxic ${t.type}: ${reason}`, { cause: err, reason });
  }
}

/** Remove a toxic by name. */
export async function removeToxic(proxy: Proxy, name: string): Promise<void> {
  const toxic = await proxy.getToxic(name);
  await toxic.remove();
}

/** Disable (outage) or re-enable a network's proxy. Disabling drops every connection. */
export async function setEnabled(net: Network, enabled: boolean): Promise<void> {
  net.proxy = await net.proxy.update({ enabled, listen: net.proxy.listen, upstream: net.proxy.upstream });
}

/** Remove the run's proxies; errors are swallowed (best effort, also used on failure paths). */
export async function removeNetworks(nets: Map<string, Network>): Promise<void> {
  await Promise.all([...nets.values()].map((n) => n.proxy.remove().catch(() => {})));
}
