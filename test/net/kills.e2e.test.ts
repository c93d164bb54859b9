/**
 * `chatstorm run` stopped by a signal at each phase, against a shared Toxiproxy (an embedded
 * API in this process standing in for a real one). SIGINT and SIGTERM end the run as an error
 * (exit 3) with every report written and every proxy removed; SIGKILL leaves only what cannot be
 * helped (the run's proxies, named after its pid, for `chatstorm cleanup`) and a history that
 * `chatstorm check` judges as an error. No child outlives the run in any case. Each signal is
 * sent on an event (a child appearing, the progress line naming the phase), never on a clock.
 * The full matrix, with the report phase, is bench/reliability.ts (docs/reliability.md).
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Toxiproxy } from 'toxiproxy-node-client';
import { startEmbeddedToxiproxy, type EmbeddedToxiproxy } from '../../src/proxy/index.ts';
import { parseProxyName } from '../../src/net/proxy-name.ts';
import type { Summary } from '../../src/report/summary.ts';
import { allGone, chatstormChildren, startChatstorm, waitFor, type Started } from './processes.ts';

describe('chatstorm run stopped by a signal', () => {
  let out: string;
  let api: EmbeddedToxiproxy;
  let run: Started | undefined;
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'chatstorm-kills-'));
    api = await startEmbeddedToxiproxy({ port: 0 });
  });
  afterAll(async () => {
    await api.close();
    await rm(out, { recursive: true, force: true });
  });
  afterEach(async () => {
    if (run && run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
    // Leave the shared API empty for the next case.
    const client = new Toxiproxy(api.url);
    for (const p of Object.values(await client.getAll())) await p.remove();
  });

  /** Wait until the run is in `phase`; resolve with its children's pids. */
  async function reach(r: Started, phase: 'connect' | 'play' | 'drain'): Promise<number[]> {
    const pid = r.child.pid as number;
    if (phase === 'connect') {
      // Set-up: the reference server child exists; devices are not all live yet.
      expect(await waitFor(() => chatstormChildren(pid).some((c) => c.command.startsWith('serve')), 60_000)).toBe(true);
    } else {
      await r.waitStderr(new RegExp(`\\[\\s*\\d+s(?:/\\d+s)? ${phase}\\s*\\]`));
    }
    return chatstormChildren(pid).map((c) => c.pid);
  }

  it.each([
    ['SIGINT', 'connect'],
    ['SIGTERM', 'play'],
    ['SIGINT', 'drain'],
  ] as const)('%s in %s: exit 3, an interrupted run with every report, no proxy or child left', async (signal, phase) => {
    const dir = join(out, `${signal}-${phase}`);
    run = startChatstorm(['run', 'test/fixtures/small.ts', '--out', dir, '--duration', '3s'], { TOXIPROXY_URL: api.url });
    const children = await reach(run, phase);
    expect(children.length).toBeGreaterThan(0);
    run.child.kill(signal);
    const end = await run.exited;
    expect(end.code).toBe(3);
    expect(run.stderr()).toContain('chatstorm: stopping');
    expect(run.stdout()).toContain('verdict: ERROR');
    const [folder] = await readdir(dir);
    const files = (await readdir(join(dir, folder!))).sort();
    expect(files).toEqual(['history.jsonl', 'junit.xml', 'plan.json', 'report.html', 'summary.json', 'summary.md']);
    const summary = JSON.parse(await readFile(join(dir, folder!, 'summary.json'), 'utf8')) as Summary;
    expect(summary.verdict).toBe('error');
    expect(summary.endReason).toBe('interrupted');
    expect(Object.keys(await new Toxiproxy(api.url).getAll())).toEqual([]);
    expect(allGone(children)).toBe(true); // stopped by the run itself before it exited
  }, 180_000);

  it('SIGKILL in drain: no child left; its proxies stay, named after it, and check says error', async () => {
    const dir = join(out, 'SIGKILL-drain');
    run = startChatstorm(['run', 'test/fixtures/small.ts', '--out', dir, '--duration', '3s'], { TOXIPROXY_URL: api.url });
    const children = await reach(run, 'drain');
    run.child.kill('SIGKILL');
    await run.exited;
    expect(await waitFor(() => allGone(children), 15_000)).toBe(true);
    const left = Object.keys(await new Toxiproxy(api.url).getAll());
    expect(left.map((n) => parseProxyName(n)?.pid)).toEqual([run.child.pid, run.child.pid]);
    const [folder] = await readdir(dir);
    const check = startChatstorm(['check', join(dir, folder!)]);
    expect((await check.exited).code).toBe(3);
    expect(check.stdout()).toContain('verdict: ERROR');
  }, 180_000);
});
