/**
 * A run's children die with it however it dies, and what a killed run leaves on a shared
 * Toxiproxy can be cleaned up afterwards. Every wait is on an event (a line of output, a pid
 * going away), bounded; nothing assumes a quiet machine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Toxiproxy } from 'toxiproxy-node-client';
import { startEmbeddedToxiproxy, type EmbeddedToxiproxy } from '../../src/proxy/index.ts';
import { parseProxyName } from '../../src/net/proxy-name.ts';
import { PARENT_WATCH_ENV } from '../../src/net/parent-watch.ts';
import { BIN, allGone, chatstormChildren, startChatstorm, waitFor, type Started } from './processes.ts';

/** Bound on how long children may take to notice their parent is gone (they close cleanly first). */
const GONE_WITHIN_MS = 15_000;

describe('a run killed with SIGKILL', () => {
  let out: string;
  let run: Started | undefined;
  let api: EmbeddedToxiproxy | undefined;
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'chatstorm-orphans-'));
  });
  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
  });
  afterEach(async () => {
    if (run && run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
    await api?.close();
    api = undefined;
  });

  it('takes the reference server and the embedded proxy with it', async () => {
    run = startChatstorm(['run', 'test/fixtures/small.ts', '--out', join(out, 'embedded'), '--duration', '60s']);
    // The progress line in a log names each new phase: wait until the run plays.
    await run.waitStderr(/\[\s*\d+s(?:\/\d+s)? play\s*\]/);
    const children = chatstormChildren(run.child.pid as number);
    expect(children.map((c) => c.command.split(' ')[0]).sort()).toEqual(['proxy', 'serve']);
    run.child.kill('SIGKILL');
    await run.exited;
    const pids = children.map((c) => c.pid);
    expect(await waitFor(() => allGone(pids), GONE_WITHIN_MS)).toBe(true);
  }, 120_000);

  it('leaves its proxies on a real Toxiproxy, named after its pid; the next run warns and cleanup removes them', async () => {
    api = await startEmbeddedToxiproxy({ port: 0 });
    const client = new Toxiproxy(api.url);
    await client.createProxy({ name: 'someone-elses', listen: '127.0.0.1:0', upstream: '127.0.0.1:9' });
    run = startChatstorm(['run', 'test/fixtures/small.ts', '--out', join(out, 'external'), '--duration', '60s'], { TOXIPROXY_URL: api.url });
    await run.waitStderr(/\[\s*\d+s(?:\/\d+s)? play\s*\]/);
    const children = chatstormChildren(run.child.pid as number);
    expect(children.map((c) => c.command.split(' ')[0])).toEqual(['serve']);
    run.child.kill('SIGKILL');
    await run.exited;
    expect(await waitFor(() => allGone(children.map((c) => c.pid)), GONE_WITHIN_MS)).toBe(true);

    const left = Object.keys(await client.getAll()).filter((n) => n !== 'someone-elses');
    expect(left).toHaveLength(2); // one per network of the scenario
    for (const n of left) expect(parseProxyName(n)?.pid).toBe(run.child.pid);

    // A later run is not harmed, but says what is there and how to remove it.
    const next = startChatstorm(['run', 'test/fixtures/small.ts', '--out', join(out, 'next'), '--duration', '1s', '--quiet', '--allow-harness-lag'], { TOXIPROXY_URL: api.url });
    const done = await next.exited;
    expect(next.stderr()).toContain(`chatstorm: warning: Toxiproxy at ${api.url} has 2 stale proxies of chatstorm runs that are no longer alive`);
    expect(next.stderr()).toContain(`chatstorm: note: Toxiproxy at ${api.url} has 2 stale proxies`);
    expect(next.stderr()).toContain(`\`chatstorm cleanup --toxiproxy ${api.url}\``);
    expect(done.code).toBe(0);

    const clean = startChatstorm(['cleanup', '--toxiproxy', api.url]);
    expect((await clean.exited).code).toBe(0);
    for (const n of left) expect(clean.stdout()).toContain(`removed ${n}: its run (pid ${run.child.pid} on this host) is no longer alive`);
    expect(Object.keys(await client.getAll())).toEqual(['someone-elses']);
  }, 180_000);
});

describe('a child started by a run', () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  /** `chatstorm serve` with an IPC channel to this process, as a run starts it (or not). */
  async function serve(watch: boolean): Promise<{ url: string; stderr: () => string; exited: Promise<number | null> }> {
    const env: NodeJS.ProcessEnv = { ...process.env };
    if (watch) env[PARENT_WATCH_ENV] = '1';
    else delete env[PARENT_WATCH_ENV];
    const c = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--store', 'memory'], { stdio: ['pipe', 'pipe', 'pipe', 'ipc'], env });
    child = c;
    let err = '';
    c.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    const exited = new Promise<number | null>((r) => c.once('exit', (code) => r(code)));
    const url = await new Promise<string>((resolve, reject) => {
      let o = '';
      c.stdout!.setEncoding('utf8').on('data', (d: string) => {
        o += d;
        const m = /listening on ws:\/\/(\S+)/.exec(o);
        if (m) resolve(`http://${m[1]}`);
      });
      void exited.then((code) => reject(new Error(`serve exited ${code}: ${err}`)));
    });
    return { url, stderr: () => err, exited };
  }

  it('shuts down cleanly when its parent\'s channel closes', async () => {
    const s = await serve(true);
    child!.disconnect(); // what the kernel does to the channel when the parent dies
    expect(await s.exited).toBe(0); // through its own SIGTERM handler: a clean close
    expect(s.stderr()).toMatch(/parent process gone; serve \d+ shutting down/);
  });

  it('shuts down when its parent died before it was even up', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, [PARENT_WATCH_ENV]: '1' };
    const c = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--store', 'memory'], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env });
    child = c;
    let err = '';
    c.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.disconnect(); // at once: the child is still loading its code
    await exited; // (the test's timeout bounds the wait)
    expect(err).toMatch(/parent process gone/);
  });

  it('started by a user, keeps serving when its stdin and an IPC channel close', async () => {
    const s = await serve(false);
    child!.stdin!.end();
    child!.disconnect();
    // Two round trips after both closed: a child that reacted to either would be shutting down by
    // now (both events were queued before these requests reached it).
    for (let i = 0; i < 2; i++) expect((await fetch(`${s.url}/no-such-page`)).status).toBeGreaterThanOrEqual(400);
    expect(child!.exitCode).toBeNull();
    expect(s.stderr()).not.toContain('parent process gone');
    child!.kill('SIGTERM');
    expect(await s.exited).toBe(0);
  });
});
