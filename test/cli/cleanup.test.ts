/**
 * `chatstorm cleanup` against the embedded Toxiproxy-compatible API (in this process, port 0):
 * proxies of a dead run are removed, a live run's and every proxy chatstorm did not create stay.
 */
import { spawn } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Toxiproxy } from 'toxiproxy-node-client';
import { startEmbeddedToxiproxy, type EmbeddedToxiproxy } from '../../src/proxy/index.ts';
import { cleanup, cleanupUrl } from '../../src/cli/cleanup-command.ts';
import { main } from '../../src/cli/main.ts';
import { currentOwner, runProxyName } from '../../src/net/proxy-name.ts';
import { staleProxyWarning } from '../../src/net/stale-proxies.ts';
import { UnreachableError, UsageError } from '../../src/errors.ts';
import { freePort } from '../net/free-port.ts';

/** The pid of a process that has exited (and been reaped): a run killed earlier. */
function deadPid(): Promise<number> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    c.once('exit', () => resolve(c.pid as number));
  });
}

describe('chatstorm cleanup', () => {
  let api: EmbeddedToxiproxy;
  let client: Toxiproxy;
  let dead: string[];
  let live: string;
  const foreign = ['redis-master', 'chatstorm-r0-lan', 'chatstorm~other-host~1~r9~lan'];
  const names = async () => Object.keys(await client.getAll()).sort();

  beforeEach(async () => {
    api = await startEmbeddedToxiproxy({ port: 0 });
    client = new Toxiproxy(api.url);
    const me = currentOwner();
    const gone = { host: me.host, pid: await deadPid() };
    dead = [runProxyName('small-1', 'agents', gone), runProxyName('small-1', 'customers', gone)];
    live = runProxyName('small-2', 'agents', me);
    for (const name of [...dead, live, ...foreign]) await client.createProxy({ name, listen: '127.0.0.1:0', upstream: '127.0.0.1:9' });
  });
  afterEach(async () => {
    await api.close();
  });

  it('removes the proxies of a dead run and only those, saying what it removed and what it kept', async () => {
    const r = await cleanup({ toxiproxy: api.url });
    expect(r.exitCode).toBe(0);
    expect(r.result.removed).toEqual(dead);
    expect(await names()).toEqual([live, ...foreign].sort());
    const pid = dead[0]!.split('~')[2];
    expect(r.text).toContain(`removed ${dead[0]}: its run (pid ${pid} on this host) is no longer alive`);
    expect(r.text).toContain(`kept ${live}: its run (pid ${process.pid} on this host) is still alive`);
    expect(r.text).toContain('kept chatstorm~other-host~1~r9~lan: created from host other-host, where pid 1 cannot be checked from here');
    expect(r.text).toContain('kept chatstorm-r0-lan: named by an older chatstorm without its owner');
    expect(r.text).toContain('left alone: 1 proxy not created by chatstorm');
    expect(r.text).not.toContain('redis-master');
    expect(r.text.split('\n').at(-1)).toBe('removed 2 proxies of dead runs');
    // Again: nothing left to remove.
    const again = await cleanup({ toxiproxy: api.url });
    expect(again.result.removed).toEqual([]);
    expect(again.text.split('\n').at(-1)).toBe('nothing to remove: no proxy of a chatstorm run that is no longer alive');
  });

  it('with --dry-run says what it would remove and removes nothing', async () => {
    const r = await cleanup({ toxiproxy: api.url, dryRun: true });
    expect(r.result.removed).toEqual(dead);
    expect(r.text).toContain(`would remove ${dead[0]}`);
    expect(await names()).toEqual([...dead, live, ...foreign].sort());
  });

  it('runs from the command line, taking the URL from TOXIPROXY_URL, and exits 0', async () => {
    const out: string[] = [];
    const write = process.stdout.write;
    const saved = process.env.TOXIPROXY_URL;
    process.env.TOXIPROXY_URL = api.url;
    process.stdout.write = ((s: string) => (out.push(s), true)) as typeof process.stdout.write;
    let code: number;
    try {
      code = await main(['cleanup']);
    } finally {
      process.stdout.write = write;
      if (saved === undefined) delete process.env.TOXIPROXY_URL;
      else process.env.TOXIPROXY_URL = saved;
    }
    expect(code).toBe(0);
    expect(out.join('')).toContain(`Toxiproxy at ${api.url}: 6 proxies`);
    expect(await names()).toEqual([live, ...foreign].sort());
  });

  it('gives the warning a run prints while stale proxies are there, naming the cleanup command', async () => {
    const w = await staleProxyWarning(api.url);
    expect(w).toBe(
      `Toxiproxy at ${api.url} has 2 stale proxies of chatstorm runs that are no longer alive (${dead.join(', ')}); ` +
        `remove them with \`chatstorm cleanup --toxiproxy ${api.url}\``,
    );
    await cleanup({ toxiproxy: api.url });
    expect(await staleProxyWarning(api.url)).toBeNull();
  });

  it('exits 3 when the API is unreachable, naming it', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const err = await cleanup({ toxiproxy: url }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnreachableError);
    expect((err as UnreachableError).code).toBe('CHATSTORM_ERR_UNREACHABLE');
    expect((err as Error).message).toBe(`Toxiproxy API at ${url} is unreachable. Is Toxiproxy running there? Pass its API with \`--toxiproxy URL\` (or set TOXIPROXY_URL).`);
    const stderr = process.stderr.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      expect(await main(['cleanup', '--toxiproxy', url])).toBe(3);
    } finally {
      process.stderr.write = stderr;
    }
    // And a run does not warn about what it cannot see (the run itself reports the API).
    expect(await staleProxyWarning(url)).toBeNull();
  });

  it.each([
    ['embedded', 'an embedded proxy ends with its run'],
    ['not a url', '--toxiproxy must be the URL of a Toxiproxy API'],
    ['ws://127.0.0.1:8474', '--toxiproxy must be an http:// URL'],
  ])('refuses --toxiproxy %j as bad usage', (value, message) => {
    const err = (() => {
      try {
        cleanupUrl(value, {});
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toContain(message);
  });

  it('defaults to Toxiproxy\'s own address when neither --toxiproxy nor TOXIPROXY_URL is set', () => {
    expect(cleanupUrl(undefined, {})).toBe('http://127.0.0.1:8474');
    expect(cleanupUrl(undefined, { TOXIPROXY_URL: 'http://tp:8474/' })).toBe('http://tp:8474');
  });
});
