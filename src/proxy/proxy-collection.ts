import { parseHostPort } from './address.ts';
import { apiErrors, ToxiproxyApiError } from './errors.ts';
import { Proxy } from './proxy.ts';
import { readStruct } from './request-body.ts';

const proxyFields = { name: 'string', listen: 'string', upstream: 'string', enabled: 'bool' } as const;

/** A validated proxy body. */
interface ProxyInput {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
}

/** Outcome of `/populate`: the proxies created or kept, and the error that stopped it, if any. */
export interface PopulateResult {
  proxies: Proxy[];
  error?: ToxiproxyApiError;
}

/**
 * All proxies of one embedded Toxiproxy, by name: the state behind the HTTP API, with
 * Toxiproxy's semantics (proxy_collection.go, proxy.go). Methods throw {@link ToxiproxyApiError}.
 */
export class ProxyCollection {
  private readonly proxies = new Map<string, Proxy>();

  /** Every proxy, sorted by name (Go marshals the map with sorted keys). */
  list(): Proxy[] {
    return [...this.proxies.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  get(name: string): Proxy {
    const proxy = this.proxies.get(name);
    if (!proxy) throw apiErrors.proxyNotFound();
    return proxy;
  }

  /** `POST /proxies`: creates and (unless `enabled: false`) starts a proxy. */
  async create(body: unknown): Promise<Proxy> {
    const input = readProxyInput(body, '');
    if (this.proxies.has(input.name)) throw apiErrors.proxyAlreadyExists();
    const proxy = new Proxy(input.name, input.listen, input.upstream);
    if (input.enabled) await startOrThrow(proxy);
    this.proxies.set(proxy.name, proxy);
    return proxy;
  }

  /**
   * `POST /populate`: validates every entry first, then creates each proxy in order; a proxy of
   * the same name whose listen and upstream are unchanged is kept as is (with its toxics and
   * enabled state), a changed one is stopped and replaced. Stops at the first failure and reports
   * what was done so far.
   */
  async populate(body: unknown): Promise<PopulateResult> {
    if (!Array.isArray(body)) {
      const type = body === null ? 'null' : typeof body === 'object' ? 'object' : typeof body === 'boolean' ? 'bool' : typeof body;
      throw apiErrors.badRequestBody(`json: cannot unmarshal ${type} into Go value of type []toxiproxy.Proxy`);
    }
    const inputs = body.map((entry, i) => readProxyInput(entry, ` at proxy ${i + 1}`));
    const proxies: Proxy[] = [];
    for (const input of inputs) {
      try {
        proxies.push(await this.addOrReplace(input));
      } catch (err: unknown) {
        return { proxies, error: asApiError(err) };
      }
    }
    return { proxies };
  }

  /** `PATCH|POST /proxies/{name}`: fields given override the current ones; `name` is ignored. */
  async update(name: string, body: unknown): Promise<Proxy> {
    const proxy = this.get(name);
    const f = readStruct(body, 'Proxy', proxyFields);
    // A `name` in the body is ignored, as Toxiproxy's update ignores it (no rename).
    const listen = (f['listen'] as string | undefined) ?? proxy.listen;
    const upstream = (f['upstream'] as string | undefined) ?? proxy.upstream;
    const enabled = (f['enabled'] as boolean | undefined) ?? proxy.enabled;
    checkAddresses(listen, upstream, '');
    const differs = await proxy.differs(listen, upstream).catch((err: unknown) => {
      throw new ToxiproxyApiError(400, `proxy field \`listen\`: ${err instanceof Error ? err.message : String(err)}`);
    });
    if (differs) {
      // Toxiproxy: changing listen or upstream restarts the proxy and drops live connections.
      await proxy.stop();
      proxy.listen = listen;
      proxy.upstream = upstream;
    }
    if (enabled && !proxy.enabled) await startOrThrow(proxy);
    if (!enabled && proxy.enabled) await proxy.stop();
    return proxy;
  }

  /** `DELETE /proxies/{name}`. */
  async remove(name: string): Promise<void> {
    const proxy = this.get(name);
    this.proxies.delete(name);
    await proxy.stop();
  }

  /** `POST /reset`: enables every proxy and removes every toxic. */
  async reset(): Promise<void> {
    for (const proxy of this.list()) {
      await startOrThrow(proxy);
      await proxy.toxics.removeAll();
    }
  }

  /** Stops every proxy and forgets them (server shutdown). */
  async closeAll(): Promise<void> {
    const all = [...this.proxies.values()];
    this.proxies.clear();
    await Promise.all(all.map((p) => p.stop()));
  }

  private async addOrReplace(input: ProxyInput): Promise<Proxy> {
    const existing = this.proxies.get(input.name);
    if (existing) {
      const differs = await existing.differs(input.listen, input.upstream).catch((err: unknown) => {
        throw new ToxiproxyApiError(400, `proxy field \`listen\`: ${err instanceof Error ? err.message : String(err)}`);
      });
      if (!differs) return existing;
      await existing.stop();
      this.proxies.delete(input.name);
    }
    const proxy = new Proxy(input.name, input.listen, input.upstream);
    if (input.enabled) await startOrThrow(proxy);
    this.proxies.set(proxy.name, proxy);
    return proxy;
  }
}

function readProxyInput(body: unknown, where: string): ProxyInput {
  const f = readStruct(body, 'Proxy', proxyFields);
  const name = (f['name'] as string | undefined) ?? '';
  const upstream = (f['upstream'] as string | undefined) ?? '';
  if (name === '') throw apiErrors.missingField(`name${where}`);
  if (upstream === '') throw apiErrors.missingField(`upstream${where}`);
  const listen = (f['listen'] as string | undefined) ?? '';
  checkAddresses(listen, upstream, where);
  return { name, listen, upstream, enabled: (f['enabled'] as boolean | undefined) ?? true };
}

/** Toxiproxy only finds bad addresses when it listens or dials; here they are a 400 up front. */
function checkAddresses(listen: string, upstream: string, where: string): void {
  if (listen !== '' && !parseHostPort(listen)) {
    throw new ToxiproxyApiError(400, `proxy field \`listen\`${where} must be host:port (e.g. 127.0.0.1:0), got ${JSON.stringify(listen)}`);
  }
  const up = parseHostPort(upstream);
  if (!up || up.port === 0) {
    throw new ToxiproxyApiError(400, `proxy field \`upstream\`${where} must be host:port with a port from 1 to 65535, got ${JSON.stringify(upstream)}`);
  }
}

async function startOrThrow(proxy: Proxy): Promise<void> {
  try {
    await proxy.start();
  } catch (err: unknown) {
    // Toxiproxy answers 500 with the Go error text (e.g. "listen tcp …: bind: address already in use").
    throw new ToxiproxyApiError(500, err instanceof Error ? err.message : String(err), { cause: err });
  }
}

function asApiError(err: unknown): ToxiproxyApiError {
  if (err instanceof ToxiproxyApiError) return err;
  return new ToxiproxyApiError(500, err instanceof Error ? err.message : String(err), { cause: err });
}
