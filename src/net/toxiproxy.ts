/**
 * Which Toxiproxy drives the networks: a real one (`--toxiproxy URL`, or `TOXIPROXY_URL` when it
 * answers) or the embedded Toxiproxy-compatible server in a child process. Either way the harness
 * talks to it only through `toxiproxy-node-client`.
 */
import { Toxiproxy } from 'toxiproxy-node-client';
import { UnreachableError } from '../errors.ts';
import { startChild } from './child.ts';

export interface ToxiproxyHandle {
  client: Toxiproxy;
  url: string;
  kind: 'external' | 'embedded';
  /** Stops the embedded child; a no-op for an external server. */
  stop(): Promise<void>;
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url.replace(/\/+$/, '')}/version`, { signal: AbortSignal.timeout(2000) });
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * `choice`: a URL, `'embedded'`, or undefined (then `TOXIPROXY_URL` when set and reachable, else
 * embedded). An explicit URL that does not answer is an error, never silently replaced.
 */
export async function openToxiproxy(choice: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<ToxiproxyHandle> {
  if (choice !== undefined && choice !== 'embedded') {
    const url = choice.replace(/\/+$/, '');
    if (!(await answers(url))) {
      throw new UnreachableError(
        'Toxiproxy API',
        url,
        'Start it (e.g. `docker compose up toxiproxy` or `chatstorm proxy --port 8474`), or pass `--toxiproxy embedded`.',
      );
    }
    return { client: new Toxiproxy(url), url, kind: 'external', stop: async () => {} };
  }
  if (choice === undefined && env.TOXIPROXY_URL) {
    const url = env.TOXIPROXY_URL.replace(/\/+$/, '');
    if (await answers(url)) return { client: new Toxiproxy(url), url, kind: 'external', stop: async () => {} };
    process.stderr.write(`chatstorm: TOXIPROXY_URL=${url} does not answer; using the embedded proxy instead\n`);
  }
  const child = await startChild(['proxy', '--port', '0'], /listening on (http:\/\/\S+)/, 'embedded Toxiproxy');
  return { client: new Toxiproxy(child.url), url: child.url, kind: 'embedded', stop: () => child.stop() };
}
