/**
 * Which Toxiproxy drives the networks: a real one (`--toxiproxy URL`, or `TOXIPROXY_URL` when it
 * answers) or the embedded Toxiproxy-compatible server in child processes (as many as the
 * open-file limit needs, see capacity.ts). Either way the harness talks to it only through
 * `toxiproxy-node-client`.
 */
import { Toxiproxy } from 'toxiproxy-node-client';
import { UnreachableError } from '../errors.ts';
import { startChild, type ChildService } from './child.ts';
import { openFileLimit, planProxyProcesses } from './capacity.ts';

export interface ToxiproxyHandle {
  /** The first (often only) API. */
  client: Toxiproxy;
  url: string;
  kind: 'external' | 'embedded';
  /**
   * Whether the API is chatstorm's embedded proxy (started here, or a `chatstorm proxy` at a URL,
   * known by its `X-Toxiproxy-Implementation` header), which has the extension toxics (`loss`).
   */
  extensions: boolean;
  /** The API that hosts a network's proxy. */
  clientFor(network: string): { client: Toxiproxy; url: string };
  /** Number of proxy processes (embedded) or 1 (external). */
  readonly processes: number;
  /** Stops the embedded children; a no-op for an external server. */
  stop(): Promise<void>;
}

/** Whether `GET /version` answers, and whether the answer comes from chatstorm's embedded proxy. */
async function answers(url: string): Promise<{ ok: boolean; embedded: boolean }> {
  try {
    const res = await fetch(`${url.replace(/\/+$/, '')}/version`, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return { ok: res.ok, embedded: res.headers.get('x-toxiproxy-implementation') === 'chatstorm-embedded' };
  } catch {
    return { ok: false, embedded: false };
  }
}

function external(url: string, extensions: boolean): ToxiproxyHandle {
  const client = new Toxiproxy(url);
  return { client, url, kind: 'external', extensions, processes: 1, clientFor: () => ({ client, url }), stop: async () => {} };
}

/**
 * The external Toxiproxy API `openToxiproxy` will try for `choice` (a URL, or `TOXIPROXY_URL` when
 * no choice is given), without asking it; null when the embedded proxy is used.
 */
export function externalToxiproxyUrl(choice: string | undefined, env: NodeJS.ProcessEnv = process.env): string | null {
  if (choice === 'embedded') return null;
  const url = choice ?? env.TOXIPROXY_URL;
  return url ? url.replace(/\/+$/, '') : null;
}

export interface OpenToxiproxyOptions {
  env?: NodeJS.ProcessEnv;
  /** Devices per network: decides how many embedded proxy processes are needed. */
  devicesPerNetwork?: ReadonlyMap<string, number>;
  /** Open-file limit to plan with (default: this process's). */
  fileLimit?: number | null;
}

/**
 * `choice`: a URL, `'embedded'`, or undefined (then `TOXIPROXY_URL` when set and reachable, else
 * embedded). An explicit URL that does not answer is an error, never silently replaced.
 */
export async function openToxiproxy(choice: string | undefined, opts: OpenToxiproxyOptions = {}): Promise<ToxiproxyHandle> {
  const env = opts.env ?? process.env;
  if (choice !== undefined && choice !== 'embedded') {
    const url = choice.replace(/\/+$/, '');
    const found = await answers(url);
    if (!found.ok) {
      throw new UnreachableError(
        'Toxiproxy API',
        url,
        'Start it (e.g. `docker compose up toxiproxy` or `chatstorm proxy --port 8474`), or pass `--toxiproxy embedded`.',
      );
    }
    return external(url, found.embedded);
  }
  if (choice === undefined && env.TOXIPROXY_URL) {
    const url = env.TOXIPROXY_URL.replace(/\/+$/, '');
    const found = await answers(url);
    if (found.ok) return external(url, found.embedded);
    process.stderr.write(`chatstorm: TOXIPROXY_URL=${url} does not answer; using the embedded proxy instead\n`);
  }
  const loads = opts.devicesPerNetwork ?? new Map<string, number>();
  const groups = planProxyProcesses(loads, opts.fileLimit === undefined ? openFileLimit() : opts.fileLimit);
  const children: ChildService[] = [];
  try {
    for (let i = 0; i < Math.max(1, groups.length); i++) {
      children.push(await startChild(['proxy', '--port', '0'], /listening on (http:\/\/\S+)/, 'embedded Toxiproxy'));
    }
  } catch (err) {
    await Promise.all(children.map((c) => c.stop()));
    throw err;
  }
  const apis = children.map((c) => ({ client: new Toxiproxy(c.url), url: c.url }));
  const first = apis[0] as { client: Toxiproxy; url: string };
  const home = new Map<string, { client: Toxiproxy; url: string }>();
  groups.forEach((names, i) => names.forEach((n) => home.set(n, apis[i] as { client: Toxiproxy; url: string })));
  return {
    client: first.client,
    url: first.url,
    kind: 'embedded',
    extensions: true,
    processes: children.length,
    clientFor: (network) => home.get(network) ?? first,
    stop: async () => {
      await Promise.all(children.map((c) => c.stop()));
    },
  };
}
