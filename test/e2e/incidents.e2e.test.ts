/**
 * CI for the incident library: every shipped scenario (scenarios/*.ts) runs in quick mode twice,
 * through the whole harness (file loading, `--quick`, embedded Toxiproxy, live judge, reports):
 *   1. against the correct reference server: its expected verdict (and the nacks it must show);
 *   2. against the reference server with its defect: that check fails, and no other check does.
 * What to expect is read from each file's `expectations` export, never repeated here. The release
 * gate (`ci-smoke`) runs on the correct server exactly as a CI job runs it, through the command
 * line (`chatstorm run scenarios/ci-smoke.ts --quick`, built-in server in a child process). The runs
 * go one after another in this one file: each measures real delays, and two at once would share
 * the two cores.
 */
import { readdirSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { runScenario } from '../../src/cli/run-command.ts';
import { CHECK_NAMES } from '../../src/check/index.ts';
import { REPORT_FILES } from '../../src/report/write.ts';
import { QUICK_DURATION_MS, type ScenarioExpectations } from '../../src/scenario/index.ts';
import { startReferenceServer, type DefectName } from '../../src/server/index.ts';

const dir = fileURLToPath(new URL('../../scenarios/', import.meta.url));
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.ts'))
  .sort();

interface QuickRun {
  summary: Awaited<ReturnType<typeof runScenario>>['summary'];
  dir: string;
  exitCode: number;
  fired: Record<string, number>;
}

/** `chatstorm run <file> --quick [--defect d --defect-rate r]`, against an in-process reference server (so the test can read how often the defect fired). */
async function runQuick(file: string, out: string, defect?: { name: DefectName; rate: number }): Promise<QuickRun> {
  const server = await startReferenceServer({ port: 0, ...(defect ? { defects: [defect.name], defectRate: defect.rate } : {}) });
  try {
    const r = await runScenario({ scenario: join(dir, file), quick: true, target: server.url, toxiproxy: 'embedded', out, allowHarnessLag: true });
    return { ...r, fired: Object.fromEntries(server.defectsFired) };
  } finally {
    await server.close();
  }
}

/** The scenario whose correct-server run goes through the command line, as a CI job would run it. */
const VIA_CLI = 'ci-smoke.ts';

/** `chatstorm run <file> --quick` through `main`: the exit code and the run's summary.json. */
async function runQuickCli(file: string, out: string): Promise<QuickRun> {
  const exitCode = await main(['run', join(dir, file), '--quick', '--quiet', '--toxiproxy', 'embedded', '--out', out, '--allow-harness-lag']);
  const [run] = await readdir(out);
  const runDir = join(out, run as string);
  const summary = JSON.parse(await readFile(join(runDir, REPORT_FILES.summary), 'utf8')) as QuickRun['summary'];
  return { summary, dir: runDir, exitCode, fired: {} };
}

function failing(r: QuickRun): string[] {
  return CHECK_NAMES.filter((n) => r.summary.checks[n]?.status === 'fail');
}

describe('shipped scenarios in quick mode', () => {
  let out: string;
  let started = 0;
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'chatstorm-incidents-'));
    started = performance.now();
  });
  afterAll(async () => {
    // The file's wall time, for the CI budget (every scenario twice; see the README).
    process.stderr.write(`incidents.e2e: ${files.length} scenarios, file took ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    await rm(out, { recursive: true, force: true });
  });

  it('include the incident library, each with machine-readable expectations', async () => {
    for (const name of ['cross-border-peak', 'attachment-burst', 'multi-device-unread', 'history-heavy', 'group-storm', 'rate-limited-account', 'flaky-reconnect', 'ci-smoke']) {
      expect(files).toContain(`${name}.ts`);
    }
    for (const f of files) {
      const mod = (await import(pathToFileURL(join(dir, f)).href)) as { expectations?: ScenarioExpectations };
      expect(mod.expectations, `${f} has no \`export const expectations\``).toBeDefined();
    }
  });

  for (const file of files) {
    const load = async (): Promise<ScenarioExpectations> =>
      ((await import(pathToFileURL(join(dir, file)).href)) as { expectations: ScenarioExpectations }).expectations;

    it(`${file}: its expected verdict on the correct reference server`, async () => {
      const e = await load();
      const r = file === VIA_CLI ? await runQuickCli(file, join(out, `${file}-clean`)) : await runQuick(file, join(out, `${file}-clean`));
      expect(r.summary.error).toBeNull();
      // It ran in quick mode (the full send windows are 20 s to 2m30s).
      const plan = JSON.parse(await readFile(join(r.dir, REPORT_FILES.plan), 'utf8')) as { sendWindowMs: number; preloads?: { messages: number; swept: boolean }[] };
      expect(plan.sendWindowMs).toBeLessThanOrEqual(QUICK_DURATION_MS);
      if (plan.preloads !== undefined) {
        // A scenario that preloads history (history-heavy): all of it was created, and with a
        // sweep every preloaded message was shown in a page, in quick mode too.
        const history = r.summary.checks.history!;
        const messages = plan.preloads.reduce((n, p) => n + p.messages, 0);
        expect(messages).toBeGreaterThanOrEqual(100_000);
        expect(history.metrics).toMatchObject({ preloadedConversations: plan.preloads.length, preloadedMessages: messages });
        if (plan.preloads.every((p) => p.swept)) expect(history.metrics?.['preloadedUnshown']).toBe(0);
        expect(r.summary.metrics['history.preloaded.page']?.count ?? 0).toBeGreaterThan(0);
      }
      expect(r.summary.verdict, r.summary.reasons.join('; ')).toBe(e.verdict);
      expect(r.exitCode).toBe(e.verdict === 'pass' ? 0 : 1);
      if (e.verdict === 'pass') expect(failing(r)).toEqual([]);
      for (const code of e.nacks ?? []) {
        const events = (await readFile(join(r.dir, REPORT_FILES.history), 'utf8'))
          .split('\n')
          .filter((line) => line.length > 0)
          .map((line) => JSON.parse(line) as { type: string; code?: string });
        const nacks = events.filter((ev) => ev.type === 'nack' && ev.code === code).length;
        expect(nacks, `no nack ${code} in the run: the scenario did not reach the condition it is about`).toBeGreaterThan(0);
      }
    }, 120_000);

    it(`${file}: fails on exactly its expected check with its defect`, async () => {
      const e = await load();
      const r = await runQuick(file, join(out, `${file}-${e.defect.name}`), e.defect);
      expect(r.fired[e.defect.name] ?? 0, `${e.defect.name} never fired: the scenario gave it no opportunity`).toBeGreaterThan(0);
      expect(r.summary.error).toBeNull();
      expect(r.summary.verdict).toBe('fail');
      expect(r.exitCode).toBe(1);
      expect(failing(r)).toEqual([e.defect.check]);
      const failed = r.summary.checks[e.defect.check]!;
      expect(failed.count).toBeGreaterThan(0);
      expect(failed.witnesses.length).toBeGreaterThan(0);
      expect(r.summary.reasons).toContainEqual(expect.stringMatching(new RegExp(`^check ${e.defect.check} failed: \\d+ anomal`)));
    }, 120_000);
  }

  // The second history defect of the reference server only shows on long histories: the
  // preloaded one of history-heavy is where a months-old cut-off can be seen at all.
  it('history-heavy.ts: fails on exactly the history check with history-cutoff (old history gone), which only a preload reveals', async () => {
    const r = await runQuick('history-heavy.ts', join(out, 'history-heavy.ts-history-cutoff'), { name: 'history-cutoff', rate: 0.3 });
    expect(r.fired['history-cutoff'] ?? 0).toBeGreaterThan(0);
    expect(r.summary.error).toBeNull();
    expect(r.exitCode).toBe(1);
    expect(failing(r)).toEqual(['history']);
    const history = r.summary.checks.history!;
    expect(history.metrics?.['preloadedUnshown']).toBeGreaterThan(0);
    expect(history.witnesses.map((w) => w.summary)).toContainEqual(expect.stringMatching(/^page of dm\d+ .*: missing stored seq\(s\) /));
  }, 120_000);
});
