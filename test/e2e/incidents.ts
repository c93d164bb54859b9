/**
 * The incident library (scenarios/*.ts) as its end-to-end files run it: every shipped scenario in
 * quick mode through the whole harness (file loading, `--quick`, embedded Toxiproxy, live judge,
 * reports), against the correct reference server (incidents-clean.e2e.test.ts and
 * incidents-clean-shared.e2e.test.ts) and against the server with the scenario's defect
 * (incidents-defect.e2e.test.ts). What to expect is read from each file's `expectations` export,
 * never repeated in the tests.
 *
 * The files are separate so that some may run at once, each in its own process: every run allows
 * harness lag (these files judge verdicts and checks, not the harness's own timing). The defect
 * runs and the clean runs of scenarios whose time SLAs leave seconds to spare ({@link sharesCores})
 * run beside other files, where two processes sharing two cores add milliseconds; the clean runs
 * with 2-3 s SLAs or a history sweep to finish within the grace run alone.
 */
import { readdirSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, expect } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { runScenario } from '../../src/cli/run-command.ts';
import { CHECK_NAMES } from '../../src/check/index.ts';
import { parseSla } from '../../src/check/sla.ts';
import { REPORT_FILES } from '../../src/report/write.ts';
import { QUICK_DURATION_MS, type ScenarioExpectations } from '../../src/scenario/index.ts';
import { startReferenceServer, type DefectName } from '../../src/server/index.ts';

/** The shipped scenarios' folder. */
export const SCENARIO_DIR = fileURLToPath(new URL('../../scenarios/', import.meta.url));

/** Every shipped scenario file name, sorted. */
export const SCENARIO_FILES = readdirSync(SCENARIO_DIR)
  .filter((f) => f.endsWith('.ts'))
  .sort();

/** The scenario whose correct-server run goes through the command line, as a CI job would run it. */
export const VIA_CLI = 'ci-smoke.ts';

/** One quick run's outcome. */
export interface QuickRun {
  summary: Awaited<ReturnType<typeof runScenario>>['summary'];
  dir: string;
  exitCode: number;
  /** How many times each enabled defect fired (empty for a run through the command line). */
  fired: Record<string, number>;
}

/** A shipped scenario file's exports: the scenario as written, and its expectations. */
interface ScenarioModule {
  default: { sla?: string[]; traffic?: { history?: { preload?: unknown } } };
  expectations?: ScenarioExpectations;
}
const moduleOf = async (file: string) => (await import(pathToFileURL(join(SCENARIO_DIR, file)).href)) as ScenarioModule;

/** A scenario file's `expectations` export (undefined when it has none). */
export async function expectationsOf(file: string): Promise<ScenarioExpectations | undefined> {
  return (await moduleOf(file)).expectations;
}

/**
 * Whether a scenario's clean run may share the two cores with another test file (the
 * `e2e-parallel` project): it preloads no history (history-heavy's sweep must end within the
 * grace), and no time SLA is tight enough for a neighbour's CPU to matter: every bound on p90 and
 * above is at least 5 s, every bound on p50 or the mean at least 1 s. Clean quick runs measure
 * tens to hundreds of milliseconds (demo: delivery p50 24 ms, p99 625 ms); a scenario with a 2-3 s
 * bound (ci-smoke, group-storm, multi-device-unread, cross-border-peak's steady phase) runs alone.
 */
export async function sharesCores(file: string): Promise<boolean> {
  const scenario = (await moduleOf(file)).default;
  if (scenario.traffic?.history?.preload !== undefined) return false;
  return (scenario.sla ?? []).map(parseSla).every((sla) => {
    if (sla.op !== '<' && sla.op !== '<=') return true;
    if (sla.stat === 'p50' || sla.stat === 'mean') return sla.value >= 1000;
    if (sla.stat === null || sla.stat === 'count') return true;
    return sla.value >= 5000;
  });
}

/**
 * One scenario's clean run in quick mode, and what every clean run must show: no error, quick
 * send window, its preload created and swept, the expected verdict and exit code, and the nacks
 * it is about.
 */
export async function expectCleanRun(file: string, out: string): Promise<void> {
  const e = (await expectationsOf(file))!;
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
  if (e.verdict === 'pass') expect(failingChecks(r)).toEqual([]);
  for (const code of e.nacks ?? []) {
    const events = (await readFile(join(r.dir, REPORT_FILES.history), 'utf8'))
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as { type: string; code?: string });
    const nacks = events.filter((ev) => ev.type === 'nack' && ev.code === code).length;
    expect(nacks, `no nack ${code} in the run: the scenario did not reach the condition it is about`).toBeGreaterThan(0);
  }
}

/** `chatstorm run <file> --quick [--defect d --defect-rate r]`, against an in-process reference server (so the test can read how often the defect fired). */
export async function runQuick(file: string, out: string, defect?: { name: DefectName; rate: number }): Promise<QuickRun> {
  const server = await startReferenceServer({ port: 0, ...(defect ? { defects: [defect.name], defectRate: defect.rate } : {}) });
  try {
    const r = await runScenario({ scenario: join(SCENARIO_DIR, file), quick: true, target: server.url, toxiproxy: 'embedded', out, allowHarnessLag: true });
    return { ...r, fired: Object.fromEntries(server.defectsFired) };
  } finally {
    await server.close();
  }
}

/** `chatstorm run <file> --quick` through `main`: the exit code and the run's summary.json. */
export async function runQuickCli(file: string, out: string): Promise<QuickRun> {
  const exitCode = await main(['run', join(SCENARIO_DIR, file), '--quick', '--quiet', '--toxiproxy', 'embedded', '--out', out, '--allow-harness-lag']);
  const [run] = await readdir(out);
  const runDir = join(out, run as string);
  const summary = JSON.parse(await readFile(join(runDir, REPORT_FILES.summary), 'utf8')) as QuickRun['summary'];
  return { summary, dir: runDir, exitCode, fired: {} };
}

/** The checks a run failed, in report order. */
export function failingChecks(r: QuickRun): string[] {
  return CHECK_NAMES.filter((n) => r.summary.checks[n]?.status === 'fail');
}

/**
 * A temporary folder for the file's runs (removed afterwards), and the file's wall time on
 * stderr, for the CI budget. Call at the top of the file's `describe`.
 */
export function useRunsFolder(label: string, scenarios = SCENARIO_FILES.length): () => string {
  let out = '';
  let started = 0;
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), `chatstorm-${label}-`));
    started = performance.now();
  });
  afterAll(async () => {
    process.stderr.write(`${label}.e2e: ${scenarios} scenarios, file took ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    await rm(out, { recursive: true, force: true });
  });
  return () => out;
}
