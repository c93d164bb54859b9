/**
 * Which proxies on a Toxiproxy were left behind by chatstorm runs that are no longer alive, and
 * their removal (`chatstorm cleanup`, and the warning at the start of a run). A proxy is judged
 * from its name alone (see proxy-name.ts):
 *
 *   not chatstorm~...            -> foreign: never touched
 *   chatstorm-... (no owner)     -> unowned: never touched, listed
 *   chatstorm~<other host>~...   -> other-host: never judged dead (its pid means nothing here)
 *   chatstorm~<this host>~<pid>  -> live-run when that process exists, else dead-run (removed)
 *
 * A pid reused by an unrelated process keeps a dead run's proxy as "live": the error is always
 * on the side of leaving a proxy alone.
 */
import { readFileSync } from 'node:fs';
import { Toxiproxy, type Proxy } from 'toxiproxy-node-client';
import { currentOwner, isUnownedChatstormName, parseProxyName, type ParsedProxyName } from './proxy-name.ts';
import { toxiproxyCall, TOXIPROXY_TIMEOUT_MS } from './toxiproxy-call.ts';
import { describeToxiproxyError } from './toxiproxy-error.ts';

/** What one proxy on the Toxiproxy is, for cleanup. */
export type ProxyVerdict =
  | { name: string; kind: 'dead-run'; owner: ParsedProxyName }
  | { name: string; kind: 'live-run'; owner: ParsedProxyName }
  | { name: string; kind: 'other-host'; owner: ParsedProxyName }
  | { name: string; kind: 'unowned' }
  | { name: string; kind: 'foreign' };

/** How the judgement sees this machine (overridable in tests). */
export interface JudgeContext {
  /** This host as it appears in proxy names. */
  host: string;
  /** Whether a process with this pid runs on this host. */
  isAlive(pid: number): boolean;
}

/**
 * Whether process `pid` exists on this host: signal 0 is delivered to no one but checks the pid
 * (EPERM: it exists, owned by another user). A zombie (dead, not yet reaped by its parent) counts
 * as gone.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (macOS): the signal said it exists
  }
}

/** The default context: this host, `processAlive`. */
export function localContext(): JudgeContext {
  return { host: currentOwner().host, isAlive: processAlive };
}

/** Judge one proxy by its name. */
export function judgeProxyName(name: string, ctx: JudgeContext = localContext()): ProxyVerdict {
  const owner = parseProxyName(name);
  if (!owner) return isUnownedChatstormName(name) ? { name, kind: 'unowned' } : { name, kind: 'foreign' };
  if (owner.host !== ctx.host) return { name, kind: 'other-host', owner };
  return ctx.isAlive(owner.pid) ? { name, kind: 'live-run', owner } : { name, kind: 'dead-run', owner };
}

/** List the proxies of the Toxiproxy at `url` and judge each (sorted by name). */
export async function judgeProxies(url: string, ctx: JudgeContext = localContext(), timeoutMs = TOXIPROXY_TIMEOUT_MS): Promise<ProxyVerdict[]> {
  return (await listJudged(url, ctx, timeoutMs)).map((p) => p.verdict);
}

async function listJudged(url: string, ctx: JudgeContext, timeoutMs: number): Promise<{ verdict: ProxyVerdict; proxy: Proxy }[]> {
  const client = new Toxiproxy(url);
  const all = await toxiproxyCall('list proxies', url, () => client.getAll(), timeoutMs);
  return Object.entries(all)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([n, proxy]) => ({ verdict: judgeProxyName(n, ctx), proxy }));
}

/** The outcome of a cleanup. */
export interface CleanupResult {
  verdicts: ProxyVerdict[];
  /** Proxies of dead runs that were removed (or, with `dryRun`, would be). */
  removed: string[];
  /** Proxies of dead runs that could not be removed, each with why. */
  failed: { name: string; reason: string }[];
}

/**
 * Remove the proxies of dead chatstorm runs from the Toxiproxy at `url`; touch nothing else.
 * A proxy already gone (removed meanwhile by its run or another cleanup) counts as removed.
 * Rejects when the API cannot be listed (unreachable, timeout).
 */
export async function cleanupProxies(
  url: string,
  opts: { dryRun?: boolean; context?: JudgeContext; timeoutMs?: number } = {},
): Promise<CleanupResult> {
  const timeoutMs = opts.timeoutMs ?? TOXIPROXY_TIMEOUT_MS;
  const listed = await listJudged(url, opts.context ?? localContext(), timeoutMs);
  const removed: string[] = [];
  const failed: { name: string; reason: string }[] = [];
  for (const { verdict: v, proxy } of listed) {
    if (v.kind !== 'dead-run') continue;
    if (opts.dryRun) {
      removed.push(v.name);
      continue;
    }
    try {
      await toxiproxyCall(`remove proxy ${v.name}`, url, () => proxy.remove(), timeoutMs);
      removed.push(v.name);
    } catch (err) {
      const reason = describeToxiproxyError(err);
      // 404: removed meanwhile (by its run's teardown or another cleanup); the proxy is gone.
      if (/status code 404\b/.test(reason)) removed.push(v.name);
      else failed.push({ name: v.name, reason });
    }
  }
  return { verdicts: listed.map((p) => p.verdict), removed, failed };
}

/**
 * The warning a run gives when the Toxiproxy at `url` carries proxies of dead chatstorm runs,
 * or null when it carries none or cannot be asked (the run itself reports an unreachable API).
 */
export async function staleProxyWarning(url: string, ctx: JudgeContext = localContext(), timeoutMs = 2000): Promise<string | null> {
  let verdicts: ProxyVerdict[];
  try {
    verdicts = await judgeProxies(url, ctx, timeoutMs);
  } catch {
    return null;
  }
  const dead = verdicts.filter((v) => v.kind === 'dead-run').map((v) => v.name);
  if (dead.length === 0) return null;
  const shown = dead.slice(0, 3).join(', ') + (dead.length > 3 ? `, and ${dead.length - 3} more` : '');
  return (
    `Toxiproxy at ${url} has ${dead.length} stale proxies of chatstorm runs that are no longer alive (${shown}); ` +
    `remove them with \`chatstorm cleanup --toxiproxy ${url}\``
  );
}
