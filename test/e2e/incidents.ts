/**
 * The incident library (scenarios/*.ts) as its two end-to-end files run it: every shipped
 * scenario in quick mode through the whole harness (file loading, `--quick`, embedded Toxiproxy,
 * live judge, reports), against the correct reference server (incidents-clean.e2e.test.ts) and
 * against the server with the scenario's defect (incidents-defect.e2e.test.ts). What to expect is
 * read from each file's `expectations` export, never repeated in the tests.
 *
 * The two files are separate so that they may run at once, each in its own process: every run
 * allows harness lag (these files judge verdicts and checks, not the harness's own timing), and
 * the delay SLAs the clean runs must meet are seconds, where two processes sharing two cores
 * add milliseconds.
 */
import { readdirSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { runScenario } from '../../src/cli/run-command.ts';
import { CHECK_NAMES } from '../../src/check/index.ts';
import { REPORT_FILES } from '../../src/report/write.ts';
import type { ScenarioExpectations } from '../../src/scenario/index.ts';
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

/** A scenario file's `expectations` export (undefined when it has none). */
export async function expectationsOf(file: string): Promise<ScenarioExpectations | undefined> {
  return ((await import(pathToFileURL(join(SCENARIO_DIR, file)).href)) as { expectations?: ScenarioExpectations }).expectations;
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
export function useRunsFolder(label: string): () => string {
  let out = '';
  let started = 0;
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), `chatstorm-${label}-`));
    started = performance.now();
  });
  afterAll(async () => {
    process.stderr.write(`${label}.e2e: ${SCENARIO_FILES.length} scenarios, file took ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    await rm(out, { recursive: true, force: true });
  });
  return () => out;
}
