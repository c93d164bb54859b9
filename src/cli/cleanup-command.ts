/**
 * `chatstorm cleanup [--toxiproxy URL] [--dry-run]`: remove from a Toxiproxy the proxies of
 * chatstorm runs that are no longer alive (killed with SIGKILL, OOM-killed, a CI job timeout),
 * leave every other proxy untouched, and say what was removed and what was kept, and why.
 *
 * Exit codes: 0 done (also when there was nothing to remove), 2 bad usage, 3 the API could not
 * be asked or a proxy could not be removed.
 */
import { ChatstormError, ExitCode, UnreachableError, UsageError } from '../errors.ts';
import { cleanupProxies, type CleanupResult, type JudgeContext, type ProxyVerdict } from '../net/stale-proxies.ts';
import { TOXIPROXY_TIMEOUT_MS } from '../net/toxiproxy-call.ts';

/** Toxiproxy's own default API address, used when neither `--toxiproxy` nor TOXIPROXY_URL is set. */
export const DEFAULT_TOXIPROXY_URL = 'http://127.0.0.1:8474';

export interface CleanupOptions {
  /** Toxiproxy API URL (default: `TOXIPROXY_URL`, else DEFAULT_TOXIPROXY_URL). */
  toxiproxy?: string;
  /** Say what would be removed, remove nothing. */
  dryRun?: boolean;
  env?: NodeJS.ProcessEnv;
  /** How proxies are judged (default: this host, its processes). */
  context?: JudgeContext;
  /** Bound of each Toxiproxy API call, ms (default TOXIPROXY_TIMEOUT_MS). */
  timeoutMs?: number;
}

export interface CleanupOutcome {
  url: string;
  result: CleanupResult;
  /** What the command prints, one line per proxy that is chatstorm's, then a total. */
  text: string;
  exitCode: number;
}

/** Resolve the API URL from the option and the environment; a malformed one is a UsageError. */
export function cleanupUrl(choice: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const raw = choice ?? (env.TOXIPROXY_URL || DEFAULT_TOXIPROXY_URL);
  if (raw === 'embedded') {
    throw new UsageError('--toxiproxy embedded: an embedded proxy ends with its run and leaves nothing behind; give the URL of a Toxiproxy API, e.g. http://127.0.0.1:8474');
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--toxiproxy must be the URL of a Toxiproxy API such as ${DEFAULT_TOXIPROXY_URL}, got ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--toxiproxy must be an http:// URL such as ${DEFAULT_TOXIPROXY_URL}, got ${JSON.stringify(raw)}`);
  }
  return raw.replace(/\/+$/, '');
}

/** Run the cleanup. Rejects with UsageError (exit 2) or UnreachableError / a timeout (exit 3). */
export async function cleanup(o: CleanupOptions = {}): Promise<CleanupOutcome> {
  const url = cleanupUrl(o.toxiproxy, o.env);
  let result: CleanupResult;
  try {
    result = await cleanupProxies(url, { dryRun: o.dryRun, context: o.context, timeoutMs: o.timeoutMs ?? TOXIPROXY_TIMEOUT_MS });
  } catch (err) {
    if (err instanceof ChatstormError) throw err;
    throw new UnreachableError('Toxiproxy API', url, 'Is Toxiproxy running there? Pass its API with `--toxiproxy URL` (or set TOXIPROXY_URL).', { cause: err });
  }
  const text = render(url, result, o.dryRun ?? false);
  return { url, result, text, exitCode: result.failed.length > 0 ? ExitCode.infrastructure : ExitCode.pass };
}

function render(url: string, r: CleanupResult, dryRun: boolean): string {
  const lines = [`Toxiproxy at ${url}: ${plural(r.verdicts.length, 'proxy', 'proxies')}`];
  const failed = new Map(r.failed.map((f) => [f.name, f.reason]));
  let foreign = 0;
  for (const v of r.verdicts) {
    if (v.kind === 'foreign') foreign++;
    else lines.push(`  ${line(v, failed.get(v.name), dryRun)}`);
  }
  if (foreign > 0) lines.push(`  left alone: ${plural(foreign, 'proxy', 'proxies')} not created by chatstorm`);
  const n = r.removed.length;
  if (n === 0 && r.failed.length === 0) lines.push('nothing to remove: no proxy of a chatstorm run that is no longer alive');
  else if (dryRun) lines.push(`would remove ${plural(n, 'proxy', 'proxies')} of dead runs (dry run: nothing removed)`);
  else lines.push(`removed ${plural(n, 'proxy', 'proxies')} of dead runs` + (r.failed.length > 0 ? `; ${r.failed.length} could not be removed` : ''));
  return lines.join('\n');
}

function line(v: Exclude<ProxyVerdict, { kind: 'foreign' }>, failure: string | undefined, dryRun: boolean): string {
  switch (v.kind) {
    case 'dead-run':
      if (failure !== undefined) return `NOT removed ${v.name}: its run (pid ${v.owner.pid}) is gone, but removing failed: ${failure}`;
      return `${dryRun ? 'would remove' : 'removed'} ${v.name}: its run (pid ${v.owner.pid} on this host) is no longer alive`;
    case 'live-run':
      return `kept ${v.name}: its run (pid ${v.owner.pid} on this host) is still alive`;
    case 'other-host':
      return (
        `kept ${v.name}: created from host ${v.owner.host}, where pid ${v.owner.pid} cannot be checked from here ` +
        `(run \`chatstorm cleanup\` on ${v.owner.host}, or remove it by hand once that run is over)`
      );
    case 'unowned':
      return `kept ${v.name}: named by an older chatstorm without its owner; remove it by hand (DELETE /proxies/<name>) if no run uses it`;
  }
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}
