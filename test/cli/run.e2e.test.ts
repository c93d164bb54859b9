/**
 * End to end through the real command line: `chatstorm run` starts the reference server and the
 * embedded Toxiproxy in child processes, drives a short scenario through the proxy, and judges.
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReferenceServer, type ReferenceServer } from '../../src/server/index.ts';
import { startEmbeddedToxiproxy } from '../../src/proxy/index.ts';
import { runScenario } from '../../src/cli/run-command.ts';
import { checkRun } from '../../src/cli/check-command.ts';
import type { Summary } from '../../src/report/summary.ts';
import { expectValidSummary } from '../report/summary-schema.ts';
import { junitErrors } from '../report/junit-xsd.ts';
import type { LiveProgress } from '../../src/report/progress.ts';
import { runChatstorm } from '../net/processes.ts';

const chatstorm = (args: string[], env: Record<string, string> = {}) => runChatstorm(args, { env });

/** Read a run's summary.json and check it against the published schema. */
async function readSummary(run: string): Promise<Summary> {
  const summary = JSON.parse(await readFile(join(run, 'summary.json'), 'utf8')) as Summary;
  expectValidSummary(summary);
  return summary;
}

async function onlyRunDir(out: string): Promise<string> {
  const dirs = await readdir(out);
  expect(dirs).toHaveLength(1);
  return join(out, dirs[0] as string);
}

/** A port with nothing listening on it. */
async function deadPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/**
 * These runs judge checks, reports and options, not delays: on this loaded 2-core machine the
 * harness's own lag can be a material part of small local delays (three processes share two
 * cores), so the runs expected to pass allow it and mark the figures; the rule itself is tested
 * in test/check/harness-lag.test.ts and test/run/harness-lag.e2e.test.ts.
 */
const ALLOW_LAG = '--allow-harness-lag';

describe('chatstorm run (end to end)', () => {
  let out: string;
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'chatstorm-e2e-'));
  });
  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it('passes a short scenario through the embedded proxy and writes every report', async () => {
    const dir = join(out, 'pass');
    // On GitHub Actions chatstorm appends summary.md to the step summary file, after what is there.
    const stepSummary = join(out, 'step-summary.md');
    await writeFile(stepSummary, '# earlier step\n');
    const r = await chatstorm(['run', 'test/fixtures/small.ts', '--out', dir, '--quiet', ALLOW_LAG], { GITHUB_STEP_SUMMARY: stepSummary });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('verdict: PASS');
    const run = await onlyRunDir(dir);
    // The HTML report's path is the last line, where a terminal user looks for it.
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe(`report: ${join(run, 'report.html')}`);
    // SLA actuals carry their unit (a time statistic in ms or s), counts stay plain.
    expect(r.stdout).toMatch(/PASS +delivery\.p99 < 5s +\(actual \d+(\.\d+)?m?s\)/);
    expect(r.stdout).toMatch(/PASS +loss == 0 +\(actual 0\)/);
    const summary = await readSummary(run);
    expect(summary.schema).toBe(1);
    expect(summary.verdict).toBe('pass');
    expect(summary.scenario).toBe('small');
    expect(summary.seed).toBe(7);
    expect(summary.toxiproxy?.kind).toBe('embedded');
    for (const name of ['loss', 'duplicates', 'ordering']) {
      expect(summary.checks[name]?.status).toBe('pass');
      expect(summary.checks[name]?.count).toBe(0);
      expect(summary.checks[name]?.witnesses).toEqual([]);
    }
    const d = summary.metrics.delivery;
    expect(d?.count).toBeGreaterThan(50);
    // Percentiles are ordered, and every delivery crossed at least one hop.
    expect(d!.p50Ms).toBeGreaterThan(0);
    expect(d!.p50Ms).toBeLessThanOrEqual(d!.p90Ms);
    expect(d!.p90Ms).toBeLessThanOrEqual(d!.p99Ms);
    expect(d!.p99Ms).toBeLessThanOrEqual(d!.p999Ms);
    expect(d!.p999Ms).toBeLessThanOrEqual(d!.maxMs);
    // The 400 ms latency fault on the customers' link shows in deliveries to customers during it.
    expect(summary.metrics['delivery@fault']?.maxMs ?? 0).toBeGreaterThan(350);
    expect(summary.faults).toEqual([expect.objectContaining({ fault: 'f0', network: 'customers', action: 'toxic' })]);
    expect(summary.sla).toEqual([
      { expr: 'loss == 0', actual: 0, pass: true },
      expect.objectContaining({ expr: 'delivery.p99 < 5s', pass: true }),
    ]);
    const files = await readdir(run);
    expect(files.sort()).toEqual(['history.jsonl', 'junit.xml', 'plan.json', 'report.html', 'summary.json', 'summary.md']);
    const junit = await readFile(join(run, 'junit.xml'), 'utf8');
    expect(junit).toContain('failures="0"');
    expect(await junitErrors(junit)).toEqual([]);
    expect(await readFile(stepSummary, 'utf8')).toBe(`# earlier step\n${await readFile(join(run, 'summary.md'), 'utf8')}\n`);
    // Listeners get events in batches, yet the history file has every event the run recorded,
    // run-end last.
    const lines = (await readFile(join(run, 'history.jsonl'), 'utf8')).trimEnd().split('\n');
    expect(lines).toHaveLength(summary.harness!.events);
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ type: 'run-end', reason: 'complete' });

    // check re-judges the saved history to the same verdict and figures.
    const c = await chatstorm(['check', run]);
    expect(c.code).toBe(0);
    expect(c.stdout).toContain('verdict: PASS');
    expect(c.stdout).toContain(`n=${d!.count} `);
    // check rewrites the same reports, valid against the same schema, and ends on the HTML path.
    expect(c.stdout.trimEnd().split('\n').at(-1)).toBe(`report: ${join(run, 'report.html')}`);
    expect((await readSummary(run)).metrics.delivery?.count).toBe(d!.count);
  });

  it('runs against a separately started server given with --target', async () => {
    const server: ReferenceServer = await startReferenceServer({ port: 0, store: 'memory' });
    try {
      const dir = join(out, 'target');
      const r = await chatstorm(['run', 'test/fixtures/small.ts', '--target', server.url, '--out', dir, '--quiet', '--duration', '2s', ALLOW_LAG]);
      expect(r.code).toBe(0);
      const summary = await readSummary(await onlyRunDir(dir));
      expect(summary.target).toBe(server.url);
      expect(summary.metrics.delivery?.count).toBeGreaterThan(0);
    } finally {
      await server.close();
    }
  });

  it('uses the Toxiproxy named by TOXIPROXY_URL when it answers, and removes its proxies afterwards', async () => {
    const proxy = await startEmbeddedToxiproxy({ port: 0 });
    try {
      const dir = join(out, 'env-proxy');
      const r = await chatstorm(['run', 'test/fixtures/small.ts', '--out', dir, '--quiet', '--duration', '2s', ALLOW_LAG], { TOXIPROXY_URL: proxy.url });
      expect(r.code).toBe(0);
      const summary = await readSummary(await onlyRunDir(dir));
      expect(summary.toxiproxy).toEqual({ url: proxy.url, kind: 'external' });
      const left = (await (await fetch(`${proxy.url}/proxies`)).json()) as Record<string, unknown>;
      expect(Object.keys(left)).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it('falls back to the embedded proxy, saying so, when TOXIPROXY_URL does not answer', async () => {
    const port = await deadPort();
    const dir = join(out, 'env-dead');
    const r = await chatstorm(['run', 'test/fixtures/small.ts', '--out', dir, '--quiet', '--duration', '1s', ALLOW_LAG], { TOXIPROXY_URL: `http://127.0.0.1:${port}` });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`TOXIPROXY_URL=http://127.0.0.1:${port} does not answer; using the embedded proxy instead`);
    const summary = await readSummary(await onlyRunDir(dir));
    expect(summary.toxiproxy?.kind).toBe('embedded');
  });

  it('exits 3 when an explicit --toxiproxy URL does not answer, rather than replacing it', async () => {
    const port = await deadPort();
    const r = await chatstorm(['run', 'test/fixtures/small.ts', '--out', join(out, 'dead-proxy'), '--quiet', '--toxiproxy', `http://127.0.0.1:${port}`]);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain(`Toxiproxy API at http://127.0.0.1:${port} is unreachable`);
  });

  it('exits 3 with a clear message when the server is unreachable', async () => {
    const port = await deadPort();
    const dir = join(out, 'dead');
    const r = await chatstorm(['run', 'test/fixtures/small.ts', '--target', `ws://127.0.0.1:${port}`, '--out', dir, '--quiet']);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain(`chat server at ws://127.0.0.1:${port} is unreachable`);
    const summary = await readSummary(await onlyRunDir(dir));
    expect(summary.verdict).toBe('error');
  });

  it('exits 2 naming each bad field of an invalid scenario, before starting anything', async () => {
    const r = await chatstorm(['run', 'test/fixtures/invalid.ts', '--out', join(out, 'invalid')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('population.agents.count');
    expect(r.stderr).toContain('population.customers.network');
    await expect(readdir(join(out, 'invalid'))).rejects.toThrow();
  });

  it('exits 2 saying how to fix a TypeScript scenario loaded as CommonJS (no "type": "module" above it)', async () => {
    // A folder without package.json: tsx compiles the file as CommonJS, and its import of
    // chatstorm (an ES module) fails inside Node with an error that names no fix.
    const dir = await mkdtemp(join(tmpdir(), 'chatstorm-cjs-'));
    try {
      const api = new URL('../../src/scenario/index.ts', import.meta.url).href;
      const body = `import { defineScenario } from ${JSON.stringify(api)};\nexport default defineScenario({ name: 'x', seed: 1, duration: '1s', grace: '3s', networks: { lan: {} }, population: { agents: { count: 1, network: 'lan' }, customers: { count: 2, network: 'lan' } }, traffic: { arrival: { model: 'constant', over: '500ms' }, messagesPerCustomer: { min: 2, max: 2 }, thinkTime: { min: '100ms', max: '200ms' } } });\n`;
      await writeFile(join(dir, 'scenario.ts'), body);
      const r = await chatstorm(['run', join(dir, 'scenario.ts'), '--out', join(out, 'cjs')]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('loaded as CommonJS');
      expect(r.stderr).toContain('Rename it to .mts');
      // The fix it names works: the same file as .mts loads (and this one is valid, so it runs).
      await writeFile(join(dir, 'scenario.mts'), body);
      const ok = await chatstorm(['run', join(dir, 'scenario.mts'), '--out', join(out, 'cjs'), '--quiet', ALLOW_LAG]);
      expect(ok.stderr).not.toContain('could not load the file');
      expect(ok.code).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('exits 2 with the column of a malformed --sla', async () => {
    const r = await chatstorm(['run', 'test/fixtures/small.ts', '--sla', 'delivery.p99 < fast', '--out', join(out, 'sla')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/column 16/);
  });

  it.each([
    [['--target', 'notaurl'], '--target must be a URL'],
    [['--target', 'ws://127.0.0.1:1', '--insecure'], '--insecure applies to a wss:// --target'],
    [['--target', 'wss://127.0.0.1:1', '--ca', 'no-such-ca.pem'], '--ca no-such-ca.pem: cannot read the file (ENOENT)'],
    [['--target', 'http://127.0.0.1:1'], '--target must be a ws:// or wss:// URL with a host'],
    [['--http-target', 'http://127.0.0.1:1'], '--http-target needs --target'],
    [['--duration', '0s'], '--duration must be above zero'],
    [['--max-lag', '0ms'], '--max-lag must be above zero'],
    [['--sla', 'delivry.p99 < 3s'], 'expected a known metric'],
    [['--max-regression', 'ten'], '--max-regression must be a percentage above 0 such as 10%, got "ten"'],
    [['--max-regression', '10%'], '--max-regression needs --baseline'],
    [['--baseline', 'no/such/summary.json'], '--baseline no/such/summary.json: cannot read the file (ENOENT)'],
    [['--metrics-port', '70000'], '--metrics-port must be a port number 0..65535, got 70000'],
    [['--baseline', 'package.json'], '--baseline package.json is not a chatstorm summary.json: expected "schema": 1'],
  ])('exits 2 before starting anything for %j', async (args, message) => {
    const r = await chatstorm(['run', 'test/fixtures/small.ts', '--out', join(out, 'bad-args'), ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    await expect(readdir(join(out, 'bad-args'))).rejects.toThrow();
  });

  it('fails a run that regressed against --baseline (exit 1), showing both runs, and check passes the run against itself', async () => {
    // A baseline far faster than any real run (1 us delays, 10^6 deliveries/s): every figure regresses.
    const fast = join(out, 'fast-summary.json');
    const lat = (ms: number) => ({ count: 100, p50Ms: ms, p90Ms: ms, p95Ms: ms, p99Ms: ms, p999Ms: ms, maxMs: ms, meanMs: ms });
    await writeFile(fast, JSON.stringify({ schema: 1, runId: 'fast-run', startedAt: null, metrics: { delivery: lat(0.001) }, throughput: { deliveredPerS: 1e6 } }));
    const dir = join(out, 'baseline');
    const r = await chatstorm(['run', 'test/fixtures/small.ts', '--out', dir, '--quiet', '--duration', '2s', '--baseline', fast, '--max-regression', '10%', ALLOW_LAG]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`baseline fast-run (${fast}), max regression 10%`);
    expect(r.stdout).toMatch(/FAIL +delivery\.p99 +0\.0ms +\d/);
    expect(r.stdout).toMatch(/FAIL +throughput\.deliveredPerS +1000000\.0\/s/);
    expect(r.stdout).toMatch(/baseline: delivery\.p99 rose \+\d+/);
    const run = await onlyRunDir(dir);
    const summary = await readSummary(run);
    expect(summary.verdict).toBe('fail');
    expect(summary.baseline).toMatchObject({ runId: 'fast-run', maxRegressionPct: 10, status: 'fail' });
    expect(summary.throughput!.deliveredPerS).toBeGreaterThan(0);
    expect(await readFile(join(run, 'junit.xml'), 'utf8')).toContain('classname="chatstorm.baseline" name="delivery.p99 within 10% of fast-run"');
    expect(await readFile(join(run, 'summary.md'), 'utf8')).toMatch(/\| delivery\.p99 \| 0\.0ms \| [\d.]+m?s \| \+\d/);

    // The run as its own baseline, re-judged by check: nothing regressed.
    const self = join(out, 'self-summary.json');
    await writeFile(self, JSON.stringify(summary));
    const c = await chatstorm(['check', run, '--baseline', self]);
    expect(c.code).toBe(0);
    const again = await readSummary(run);
    expect(again.baseline?.status).toBe('pass');
    expect(again.baseline?.comparisons.map((x) => x.changePct)).toEqual([0, 0, 0, 0]);
  });

  it('ends an interrupted run as an error (exit 3), not as the server losing messages, and check agrees', async () => {
    const ac = new AbortController();
    let seen: LiveProgress | null = null;
    const dir = join(out, 'abort');
    // Interrupt on an event (the first delivery in play), not on a wall clock: on a loaded 2-core
    // machine a fixed delay can land during set-up, where the run ends with another message.
    const r = await runScenario({
      scenario: 'test/fixtures/small.ts',
      out: dir,
      signal: ac.signal,
      judge: 'live',
      onProgress: (p) => {
        if (p.phase === 'play' && p.delivered > 0) {
          seen ??= p;
          ac.abort();
        }
      },
    });
    // The progress the CLI prints with --judge live: the live judge's figures ride along with the runner's counters.
    expect(seen!.totalMs).toBeGreaterThan(0);
    expect(seen!.deliveryP99Ms).not.toBeNull();
    expect(seen!.anomalies).toMatchObject({ duplicates: 0, ordering: 0 });
    expect(r.exitCode).toBe(3);
    expectValidSummary(r.summary);
    expect(r.summary.verdict).toBe('error');
    expect(r.summary.endReason).toBe('interrupted');
    expect(r.summary.error).toBe('run ended early: interrupted');
    const again = await checkRun(r.dir);
    expect(again.exitCode).toBe(3);
    expectValidSummary(again.summary);
    await readSummary(r.dir);
    expect(again.summary.verdict).toBe('error');
    const junit = await readFile(join(r.dir, 'junit.xml'), 'utf8');
    expect(junit).toContain('errors="1"');
    expect(await junitErrors(junit)).toEqual([]);
  });

  it('exits 2 naming a --driver module that is missing or exports no driver, before starting anything', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chatstorm-driver-'));
    try {
      const missing = await chatstorm(['run', 'test/fixtures/small.ts', '--driver', join(dir, 'nope.ts'), '--out', join(dir, 'out')]);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain(`--driver ${join(dir, 'nope.ts')}: the driver module does not exist`);
      // A TypeScript module (loaded through tsx like a scenario) without `connect`.
      await writeFile(join(dir, 'package.json'), '{"type":"module"}\n');
      await writeFile(join(dir, 'half.ts'), `const d: { name: string; provision(): Promise<void> } = { name: 'half', async provision() {} };\nexport default d;\n`);
      const half = await chatstorm(['run', 'test/fixtures/small.ts', '--driver', join(dir, 'half.ts'), '--target', 'ws://127.0.0.1:9', '--out', join(dir, 'out')]);
      expect(half.code).toBe(2);
      expect(half.stderr).toContain('not a driver: `connect` must be a function, got undefined');
      expect(half.stderr).toContain('export default defineDriver(');
      const noTarget = await chatstorm(['run', 'test/fixtures/small.ts', '--driver', join(dir, 'half.ts'), '--out', join(dir, 'out')]);
      expect(noTarget.code).toBe(2);
      await expect(readdir(join(dir, 'out'))).rejects.toThrow();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("resolves 'chatstorm' in a scenario and driver outside any project to the running package (one copy of its modules)", async () => {
    // No node_modules and no package.json here: only the CLI's resolve hook can find 'chatstorm'.
    // The driver re-exports the reference driver; it runs without --target only if it is the
    // very object the CLI knows, i.e. one copy of the package's modules.
    const dir = await mkdtemp(join(tmpdir(), 'chatstorm-bare-'));
    try {
      await writeFile(join(dir, 'scenario.mts'), `import { defineScenario } from 'chatstorm';\nexport default defineScenario({ name: 'bare', seed: 1, duration: '1s', grace: '3s', networks: { lan: {} }, population: { agents: { count: 1, network: 'lan' }, customers: { count: 2, network: 'lan' } }, traffic: { arrival: { model: 'constant', over: '500ms' }, messagesPerCustomer: { min: 2, max: 2 }, thinkTime: { min: '100ms', max: '200ms' } } });\n`);
      await writeFile(join(dir, 'driver.mts'), `import { defineDriver, referenceDriver } from 'chatstorm';\nexport default defineDriver(referenceDriver);\n`);
      const r = await chatstorm(['run', join(dir, 'scenario.mts'), '--driver', join(dir, 'driver.mts'), '--out', join(dir, 'out'), '--quiet', ALLOW_LAG]);
      expect(r.stderr).not.toContain('needs --target');
      expect(r.code, r.stderr).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('exits 2 on an unknown option', async () => {
    const r = await chatstorm(['run', 'test/fixtures/small.ts', '--sead', '3']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('sead');
  });
});
