/**
 * `chatstorm run --workers N` end to end through the real command line: N shard processes, one
 * merged report, the same verdict and counts as one process; a killed worker makes the run an
 * error that names it, and every proxy goes away.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmbeddedToxiproxy } from '../../src/proxy/index.ts';
import { parseProxyName } from '../../src/net/proxy-name.ts';
import type { MergedSummary } from '../../src/merge/index.ts';
import type { Summary } from '../../src/report/summary.ts';
import { runChatstorm } from '../net/processes.ts';

const chatstorm = (args: string[], onStart?: (c: ChildProcess) => void) => runChatstorm(args, { onStart, timeoutMs: 120_000 });

const summaryOf = async (dir: string) => JSON.parse(await readFile(join(dir, 'summary.json'), 'utf8')) as MergedSummary;

describe('run --workers', () => {
  let out: string;
  beforeEach(async () => {
    out = await mkdtemp(join(tmpdir(), 'chatstorm-workers-'));
  });
  afterEach(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it('reaches the same verdict, messages and deliveries with 2 workers as with one process', async () => {
    // Verdicts and counts are compared, not delays: harness lag is allowed (docs/honesty.md).
    const one = await chatstorm(['run', 'test/fixtures/small.ts', '--seed', '11', '--out', join(out, 'one'), '--run-id', 'one', '--quiet', '--allow-harness-lag']);
    const two = await chatstorm(['run', 'test/fixtures/small.ts', '--seed', '11', '--out', join(out, 'two'), '--run-id', 'two', '--workers', '2', '--quiet', '--allow-harness-lag']);
    expect(one.code, one.stderr).toBe(0);
    expect(two.code, two.stderr).toBe(0);
    const a = (await summaryOf(join(out, 'one', 'one'))) as Summary;
    const b = await summaryOf(join(out, 'two', 'two'));
    expect(b.runId).toBe('two');
    expect(b.shards.map((s) => [s.shard, s.verdict, s.merged])).toEqual([['1/2', 'pass', true], ['2/2', 'pass', true]]);
    expect(b.verdict).toBe(a.verdict);
    expect(b.checks['loss']?.metrics?.['messages']).toBe(a.checks['loss']?.metrics?.['messages']);
    expect(b.checks['loss']?.metrics?.['acked']).toBe(a.checks['loss']?.metrics?.['acked']);
    expect(b.metrics['delivery']?.count).toBe(a.metrics['delivery']?.count);
    expect(b.metrics['delivery']?.count).toBeGreaterThan(100);
    // Both shards played the fault: one timeline.
    expect(b.faults.map((f) => f.fault)).toEqual(a.faults.map((f) => f.fault));
    expect((await readdir(join(out, 'two'))).sort()).toEqual(['two', 'two-s1of2', 'two-s2of2']);
  }, 240_000);

  describe('with a shared Toxiproxy', () => {
    let proxy: Awaited<ReturnType<typeof startEmbeddedToxiproxy>>;
    beforeEach(async () => {
      proxy = await startEmbeddedToxiproxy({ host: '127.0.0.1', port: 0 });
    });
    afterEach(async () => {
      await proxy.close();
    });

    it('makes the run an error naming a killed worker, with its stderr, stops the other and removes every proxy', async () => {
      let killed = false;
      const r = await chatstorm(['run', 'test/fixtures/small.ts', '--out', out, '--run-id', 'crash', '--workers', '2', '--toxiproxy', proxy.url, '--quiet'], (parent) => {
        // Kill worker 2 once its proxies exist (it is setting up or playing).
        const poll = setInterval(async () => {
          if (killed || parent.exitCode !== null) return clearInterval(poll);
          const names = Object.keys((await (await fetch(`${proxy.url}/proxies`)).json()) as object);
          if (!names.some((n) => parseProxyName(n)?.run.startsWith('crash-s2of2~'))) return;
          let pids: string[] = [];
          try {
            pids = execFileSync('pgrep', ['-P', String(parent.pid), '-f', 'shard 2/2'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
          } catch {
            return;
          }
          if (pids.length === 0) return;
          killed = true;
          clearInterval(poll);
          process.kill(Number(pids[0]), 'SIGKILL');
        }, 50);
      });
      expect(killed).toBe(true);
      expect(r.code, r.stderr + r.stdout).toBe(3);
      const s = await summaryOf(join(out, 'crash'));
      expect(s.verdict).toBe('error');
      expect(s.error).toMatch(/shard 2\/2 .*(crashed|failed).*worker 2\/2 exited with SIGKILL/s);
      expect(s.shards[1]?.merged).toBe(false);
      // The other worker stopped rather than running on alone.
      expect(s.shards[0]?.endReason).not.toBe('complete');
      // Nothing of the killed shard is reported as lost.
      expect(s.checks['loss']?.count ?? 0).toBe(0);
      expect(Object.keys((await (await fetch(`${proxy.url}/proxies`)).json()) as object)).toEqual([]);
    }, 120_000);
  });
});
