/**
 * Names of the proxies a run creates on Toxiproxy. A name says which run made it and which
 * process owns it, so that `chatstorm cleanup` (and the warning at the start of a run) can tell
 * the proxies of a run that died (SIGKILL, OOM) from those of a run still going, and both from
 * proxies chatstorm did not create:
 *
 *   chatstorm~<host>~<pid>~<run id>~<network>        e.g. chatstorm~ci-7~4121~small-20250101T000000Z-ab12~eu
 *   chatstorm~<host>~<pid>~<run id>-preflight        the scratch proxy of the toxic preflight
 *
 * `~` is unreserved in URLs (the name is a path segment of the API) and appears in none of the
 * parts: host names are letters, digits, `.` and `-`; network names are `[a-z0-9_-]`; anything
 * else in a host or run id is replaced. Toxiproxy puts no limit on names.
 *
 * Proxies named `chatstorm-<run id>-<network>` (before owners were recorded) have no owner.
 */
import { hostname } from 'node:os';

/** Every proxy a run creates starts with this. */
export const PROXY_NAME_PREFIX = 'chatstorm~';

/** The process that owns a run's proxies. */
export interface ProxyOwner {
  /** Host name, as `os.hostname()` with characters outside `[A-Za-z0-9.-]` replaced by `-`. */
  host: string;
  pid: number;
}

/** What a chatstorm proxy name says. */
export interface ParsedProxyName extends ProxyOwner {
  /** The run id and the network (or `-preflight`), as written after the pid. */
  run: string;
}

/** This process as the owner of the proxies it creates. */
export function currentOwner(): ProxyOwner {
  return { host: safeHost(hostname()), pid: process.pid };
}

/** A host name as it appears in proxy names. */
export function safeHost(host: string): string {
  return host.replace(/[^A-Za-z0-9.-]/g, '-') || 'unknown-host';
}

/** A run id as it appears in proxy names (the `run` of {@link parseProxyName} starts with it). */
export function safeRunId(runId: string): string {
  return runId.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** `chatstorm~<host>~<pid>~<run id>`: the start of every proxy name of the run. */
export function runProxyPrefix(runId: string, owner: ProxyOwner = currentOwner()): string {
  return `${PROXY_NAME_PREFIX}${safeHost(owner.host)}~${owner.pid}~${safeRunId(runId)}`;
}

/** The proxy of one network of a run. */
export function runProxyName(runId: string, network: string, owner?: ProxyOwner): string {
  return `${runProxyPrefix(runId, owner)}~${network}`;
}

/** The owner and run of a chatstorm proxy name, or null for any other name. */
export function parseProxyName(name: string): ParsedProxyName | null {
  if (!name.startsWith(PROXY_NAME_PREFIX)) return null;
  const [host, pid, ...rest] = name.slice(PROXY_NAME_PREFIX.length).split('~');
  if (!host || !pid || !/^[1-9]\d{0,9}$/.test(pid) || rest.length === 0 || rest.join('~') === '') return null;
  return { host, pid: Number(pid), run: rest.join('~') };
}

/** Whether a name has the older form `chatstorm-<run id>-<network>`, which names no owner. */
export function isUnownedChatstormName(name: string): boolean {
  return name.startsWith('chatstorm-');
}
