import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

/** A TCP endpoint. */
export interface HostPort {
  host: string;
  port: number;
}

/**
 * Parses `host:port`, `[v6]:port` or `:port` (empty host). Undefined when malformed or the
 * port is not 0..65535.
 */
export function parseHostPort(value: string): HostPort | undefined {
  const m = /^(?:\[([^\]]*)\]|([^:]*)):(\d{1,5})$/.exec(value);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  return { host: m[1] ?? m[2] ?? '', port };
}

/** `host:port`, with brackets around an IPv6 host (as Go prints addresses). */
export function formatHostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Resolves a proxy `listen` value to the IP address to bind, like Go's ResolveTCPAddr:
 * `localhost` is 127.0.0.1. Unlike Toxiproxy, an empty value or empty host binds 127.0.0.1
 * rather than every interface (chatstorm listens on 127.0.0.1 unless told otherwise).
 * Throws a plain Error with a Go-like message when it cannot be resolved.
 */
export async function resolveListen(listen: string): Promise<HostPort> {
  const hp = listen === '' ? { host: '', port: 0 } : parseHostPort(listen);
  if (!hp) throw new Error(`address ${listen}: missing port in address or invalid port`);
  if (hp.host === '' || hp.host === 'localhost') return { host: '127.0.0.1', port: hp.port };
  if (isIP(hp.host)) return hp;
  try {
    const found = await lookup(hp.host, { family: 4 }).catch(() => lookup(hp.host));
    return { host: found.address, port: hp.port };
  } catch (err) {
    // Go's net.Listen wording for a name that does not resolve (Toxiproxy answers it with 500).
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`listen tcp: lookup ${hp.host}: ${code === 'ENOTFOUND' ? 'no such host' : (err as Error).message}`, { cause: err });
  }
}
