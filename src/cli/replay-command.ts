/**
 * `chatstorm replay <trace>`: a production trace (docs/traces.md) becomes a plan and runs through
 * the same runner, checkers and reports as a scenario. `chatstorm trace synth` and
 * `chatstorm trace from-run` write traces.
 *
 *   trace file --parse--> records --(--scenario: networks, faults, SLAs)--> plan --> runScenario
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from '../errors.ts';
import { loadScenario } from '../scenario/load.ts';
import { parseTrace, traceToPlan, describeTrace, type BadLine } from '../trace/index.ts';
import { resolveDriver, runScenario, type RunScenarioOptions, type RunScenarioResult } from './run-command.ts';

export interface ReplayOptions extends Omit<RunScenarioOptions, 'scenario' | 'plan' | 'seed'> {
  /** Trace file (`.jsonl`, or `.csv`). */
  trace: string;
  /** `jsonl` or `csv`; default from the file's extension. */
  format?: 'jsonl' | 'csv';
  speed?: number;
  scale?: number;
  seed?: number;
  /** Scenario file whose networks, faults, SLAs and grace apply. */
  scenarioFile?: string;
  skipBadLines?: boolean;
}

/** Name of the file, in the run folder, that lists the lines `--skip-bad-lines` left out. */
export const SKIPPED_LINES_FILE = 'trace-skipped-lines.json';

/** Replay a trace; the result is a run's, plus notes on what the trace held. */
export async function replayTrace(o: ReplayOptions): Promise<RunScenarioResult> {
  let text: string;
  try {
    text = await readFile(o.trace, 'utf8');
  } catch (err) {
    throw new UsageError(`trace file ${o.trace} cannot be read: ${(err as Error).message}`);
  }
  const format = o.format ?? (o.trace.endsWith('.csv') ? 'csv' : 'jsonl');
  const trace = parseTrace(text, { source: o.trace, format, skipBadLines: o.skipBadLines });
  const scenario = o.scenarioFile ? (await loadScenario(o.scenarioFile)).scenario : undefined;
  // The driver first: what it carries (kinds, payload limits) decides which lines are valid.
  const driver = await resolveDriver({ ...o, scenario: undefined });
  const { plan, notes } = traceToPlan(trace, { speed: o.speed, scale: o.scale, seed: o.seed, scenario, source: o.trace, driver });
  const r = await runScenario({ ...o, driver, scenario: undefined, plan });
  r.notes.unshift(`trace ${o.trace}: ${describeTrace(trace.records)}; ${plan.sends.length} sends planned`, ...notes);
  if (trace.skipped.length > 0) {
    r.notes.push(`--skip-bad-lines left out ${trace.skipped.length} line(s): ${summarise(trace.skipped)} (all listed in ${join(r.dir, SKIPPED_LINES_FILE)})`);
    await writeFile(join(r.dir, SKIPPED_LINES_FILE), JSON.stringify({ count: trace.skipped.length, lines: trace.skipped }, null, 2) + '\n');
  }
  return r;
}

function summarise(bad: readonly BadLine[]): string {
  return bad
    .slice(0, 3)
    .map((b) => `line ${b.line}${b.field ? ` ${b.field}` : ''}: ${b.reason}`)
    .join('; ') + (bad.length > 3 ? '; ...' : '');
}
