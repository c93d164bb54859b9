/**
 * Network profiles: one Toxiproxy proxy per network of the scenario, created for the run and
 * removed afterwards (also when the run fails). Every device connects through its network's proxy.
 * Every call to the Toxiproxy API is bounded by `timeoutMs` (default TOXIPROXY_TIMEOUT_MS).
 */
import type { Proxy, Toxiproxy } from 'toxiproxy-node-client';
import type { ToxicSpec } from '../scenario/schema.ts';
import { ChatstormError, UnreachableError } from '../errors.ts';
import { describeToxiproxyError as describe } from './toxiproxy-error.ts';
import { TOXIPROXY_TIMEOUT_MS, ToxiproxyTimeoutError, toxiproxyCall } from './toxiproxy-call.ts';
import { makeTarget, type Target, type TlsTrust } from './target.ts';
import { runProxyName } from './proxy-name.ts';

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
  /** The target's URL through this network's proxy (scheme, path and query kept), e.g. `ws://127.0.0.1:PORT/`. */
  url: string;
  /** The target as seen through this network: `url`, and the real server's Host, TLS settings and HTTP API. */
  target?: Target;
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

/** The server behind the proxies, as the user named it (see target.ts). */
export interface TargetSpec {
  chat: URL;
  http: URL | null;
  trust: TlsTrust;
}

/**
 * Create the run's proxies (named by `runProxyName`), pointing at `upstream` (`host:port`), with their base toxics. Each
 * network's `target` is `spec` seen through its proxy (default: plain `ws://` to `upstream`).
 */
export async function createNetworks(
  host: ProxyHost,
  runId: string,
  upstream: string,
  networks: Record<string, { toxics: ToxicSpec[] }>,
  addressing?: { listenHost: string; connectHost: string },
  timeoutMs = TOXIPROXY_TIMEOUT_MS,
  spec: TargetSpec = { chat: new URL(`ws://${upstream}`), http: null, trust: { insecure: false } },
): Promise<Map<string, Network>> {
  const out = new Map<string, Network>();
  try {
    for (const [name, profile] of Object.entries(networks)) {
      const api = 'clientFor' in host ? host.clientFor(name) : null;
      const client = api?.client ?? (host as Toxiproxy);
      addressing ??= api ? proxyAddressing(api.url) : { listenHost: '127.0.0.1', connectHost: '127.0.0.1' };
      // The name records this process as the owner, so that `chatstorm cleanup` can tell whether
      // the run is still alive if it never gets to remove the proxy (SIGKILL).
      const proxyName = runProxyName(runId, name);
      const proxy = await createProxy(client, { name: proxyName, listen: `${addressing.listenHost}:0`, upstream }, `network ${name}`, timeoutMs);
      const port = proxy.listen.slice(proxy.listen.lastIndexOf(':') + 1);
      const target = makeTarget(spec.chat, spec.http, { host: addressing.connectHost, port }, spec.trust);
      out.set(name, { name, url: target.url, target, proxy });
      for (const [i, t] of profile.toxics.entries()) await addToxic(proxy, t, t.name ?? `chatstorm_base${i}_${t.type}`, `networks.${name}.toxics[${i}]`, timeoutMs);
    }
  } catch (err) {
    const left = await removeNetworks(out, timeoutMs);
    if (left.length > 0 && err instanceof Error) err.message += `; ${leftBehind(left)}`;
    throw err;
  }
  return out;
}

/** Create one proxy (`purpose` names it in errors, e.g. `network eu`). */
export async function createProxy(
  client: Toxiproxy,
  body: { name: string; listen: string; upstream: string },
  purpose: string,
  timeoutMs = TOXIPROXY_TIMEOUT_MS,
): Promise<Proxy> {
  try {
    return await toxiproxyCall(`create proxy ${body.name}`, client.host, () => client.createProxy(body), timeoutMs);
  } catch (err) {
    if (err instanceof ToxiproxyTimeoutError) throw err;
    if (!answered(err)) throw unreachable(client.host, `create proxy ${body.name}`, err);
    throw new NetworkError(`could not create proxy ${body.name} for ${purpose}: ${describe(err)}`, { cause: err, reason: describe(err) });
  }
}

/** Add a toxic; a rejection names the scenario field it came from (a timeout is not a rejection). */
export async function addToxic(proxy: Proxy, t: ToxicSpec, name: string, field: string, timeoutMs = TOXIPROXY_TIMEOUT_MS): Promise<void> {
  try {
    await toxiproxyCall(`add toxic ${name} to ${proxy.name}`, proxy.getHost(), () =>
      proxy.addToxic({ name, type: t.type as never, stream: t.stream, toxicity: t.toxicity, attributes: t.attributes }), timeoutMs);
  } catch (err) {
    if (err instanceof ToxiproxyTimeoutError) throw err;
    // A Toxiproxy that went away (killed, restarted) did not reject anything: an infrastructure
    // error (exit 3), never a bad toxic of the scenario (the preflight turns NetworkError into exit 2).
    if (!answered(err)) throw unreachable(proxy.getHost(), `add toxic ${name} to ${proxy.name}`, err);
    const reason = describe(err);
    throw new NetworkError(`${field}: the proxy rejected toxic ${t.type}: ${reason}`, { cause: err, reason });
  }
}

/**
 * Whether a failed call got an HTTP answer (a refusal) rather than no answer at all (connection
 * refused or reset). toxiproxy-node-client 4 reports an HTTP error as "Request failed with status
 * code N" and a network error with fetch's own message ("fetch failed").
 */
function answered(err: unknown): boolean {
  const e = err as { response?: unknown; message?: unknown } | null;
  return e?.response !== undefined || /status code \d{3}/.test(String(e?.message ?? ''));
}

function unreachable(url: string, what: string, err: unknown): UnreachableError {
  return new UnreachableError('Toxiproxy API', url, `"${what}" got no answer (${describe(err)}). Is Toxiproxy still running there?`, { cause: err });
}

/** Remove a toxic by name. */
export async function removeToxic(proxy: Proxy, name: string, timeoutMs = TOXIPROXY_TIMEOUT_MS): Promise<void> {
  await toxiproxyCall(`remove toxic ${name} from ${proxy.name}`, proxy.getHost(), async () => (await proxy.getToxic(name)).remove(), timeoutMs);
}

/** A toxic as it is on the proxy now. */
export type ToxicSnapshot = ToxicSpec & { name: string };

/** Read a toxic by name. */
export async function readToxic(proxy: Proxy, name: string, timeoutMs = TOXIPROXY_TIMEOUT_MS): Promise<ToxicSnapshot> {
  const t = await toxiproxyCall(`read toxic ${name} of ${proxy.name}`, proxy.getHost(), () => proxy.getToxic(name), timeoutMs);
  return {
    name: t.name,
    type: t.type as ToxicSpec['type'],
    stream: t.stream,
    toxicity: t.toxicity,
    attributes: { ...(t.attributes as Record<string, number>) },
  };
}

/** Set a toxic's attributes and toxicity (type and stream stay). */
export async function updateToxic(proxy: Proxy, t: ToxicSnapshot, attributes: Record<string, number>, toxicity: number, timeoutMs = TOXIPROXY_TIMEOUT_MS): Promise<void> {
  await toxiproxyCall(`update toxic ${t.name} of ${proxy.name}`, proxy.getHost(), async () => {
    const toxic = await proxy.getToxic(t.name);
    await toxic.update({ name: t.name, type: t.type as never, stream: t.stream, toxicity, attributes: attributes as never });
  }, timeoutMs);
}

/** Disable (outage) or re-enable a network's proxy. Disabling drops every connection. */
export async function setEnabled(net: Network, enabled: boolean, timeoutMs = TOXIPROXY_TIMEOUT_MS): Promise<void> {
  const p = net.proxy;
  net.proxy = await toxiproxyCall(`${enabled ? 'enable' : 'disable'} proxy ${p.name}`, p.getHost(), () => p.update({ enabled, listen: p.listen, upstream: p.upstream }), timeoutMs);
}

/**
 * Remove the run's proxies, every one even when some fail (also used on failure paths). Resolves
 * with the proxies it could not remove, each with why, e.g. `chatstorm~h~41~r1~eu at http://h:8474 (...)`.
 */
export async function removeNetworks(nets: ReadonlyMap<string, Network>, timeoutMs = TOXIPROXY_TIMEOUT_MS): Promise<string[]> {
  const results = await Promise.allSettled([...nets.values()].map((n) => removeProxy(n.proxy, timeoutMs)));
  return results.flatMap((r) => (r.status === 'rejected' ? [String((r.reason as Error).message)] : []));
}

/** Remove one proxy; a failure says which proxy on which Toxiproxy, and why. */
export async function removeProxy(proxy: Proxy, timeoutMs = TOXIPROXY_TIMEOUT_MS): Promise<void> {
  try {
    await toxiproxyCall(`remove proxy ${proxy.name}`, proxy.getHost(), () => proxy.remove(), timeoutMs);
  } catch (err) {
    throw new NetworkError(`${proxy.name} at ${proxy.getHost()} (${describe(err)})`, { cause: err, reason: describe(err) });
  }
}

/** The infrastructure error for proxies `removeNetworks` could not remove. */
export function leftBehind(failures: readonly string[]): string {
  return (
    `proxies left behind: ${failures.join('; ')}. ` +
    'Remove them with `chatstorm cleanup --toxiproxy <url>` once this run has exited, or `curl -X DELETE <toxiproxy>/proxies/<name>`.'
  );
}
