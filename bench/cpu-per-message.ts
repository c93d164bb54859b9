/**
 * Macro benchmark: harness CPU per delivered-and-checked message against a bare `ws` client
 * doing the same traffic, in the same run (target ≤ 1.5×).
 *
 *   node --import tsx bench/cpu-per-message.ts [--customers 400] [--messages 40] [--seconds 60] [--rounds 3] [--only harness|bare] [--judge after|live] [--control]
 *
 * KEEP_HISTORY=<file> copies the harness run's history file there (to profile judging it alone).
 * Profiling: CPU_PROF=1 writes a V8 CPU profile of each measurement child to /tmp/chatstorm-prof;
 * BENCH_CHILD_FLAGS adds node flags to the measurement children (e.g. "--heap-prof"), and
 * BENCH_PROXY_FLAGS to the embedded proxy (e.g. "--cpu-prof --cpu-prof-dir=/tmp/chatstorm-prof").
 * `--only` plays one side per round (quick A/B of harness changes; no ratio is printed).
 * `--control` plays the bare client a second time in every round and prints the ratio of the two
 * bare runs: what two runs of the same client differ by here, the method's own noise, beside
 * which a harness ratio near the target has to be read.
 * `--judge after` (the default, as `chatstorm run`): no live judge during play; the CPU of judging
 * the history file after the run is added to the harness's figures (all of it to the whole-run
 * figure, its share of the deliveries to the steady-state one). `--judge live`: the live judge.
 *
 * One plan, played twice, each time against a fresh reference server (memory store, no rate
 * limit) through a fresh embedded proxy, each side measured in its own child process with
 * process.cpuUsage() from the start of play to the last expected delivery (and, as a second
 * figure, from the send at one third of the plan on: see CpuWindow):
 *   bare:    ws clients that write the planned send frames at their planned times and parse what
 *            arrives (acks and messages), nothing else
 *   harness: runPlan with the listeners `chatstorm run` puts on it (history file writer, fault
 *            log, throughput meter, report series, progress line ticked every second; the live
 *            judge with `--judge live`), then the judge over the history file (`--judge after`):
 *            what `chatstorm run` does per message
 * Both sides share two cores with the server and the proxy, so one pair of runs varies by ±10 %
 * on either side; `--rounds` pairs are played, alternating which side goes first, and the
 * median of the per-round ratios is the result.
 * Bounded: the plan is finite, every wait has a deadline.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { flagsOf, numericArg, runMeasurementChild, judgeArg } from './measure-child.ts';
import { median } from './lib/median.ts';
import { pairedRound } from './lib/paired-round.ts';
import { expectedDeliveries } from './lib/expected-deliveries.ts';
import { startFreshTarget, bareProxy } from './lib/fresh-target.ts';
import { connectBareDevices, playBare } from './lib/bare-client.ts';
import { steadyScenario } from './lib/steady-scenario.ts';
import { buildPlan, type Plan } from '../src/plan/plan.ts';
import { runPlan } from '../src/run/runner.ts';
import { createJudge } from '../src/check/index.ts';
import { HistoryWriter } from '../src/history/writer.ts';
import { forEachHistoryEvent } from '../src/history/reader.ts';
import { guardListener } from '../src/history/guard.ts';
import type { HistoryEvent } from '../src/history/events.ts';
import { FaultLog } from '../src/report/fault-log.ts';
import { ThroughputMeter } from '../src/report/throughput.ts';
import { RunSeries } from '../src/report/run-series.ts';
import { LiveProgressTracker, formatProgress } from '../src/report/progress.ts';
import { liveAnomalies, liveDeliveryP99Ms } from '../src/report/live-judge.ts';

interface Job {
  mode: 'bare' | 'harness';
  planFile: string;
  server: string;
  toxiproxy: string;
  historyFile: string;
  judge: 'live' | 'after';
}
interface Measured {
  mode: string;
  sends: number;
  deliveries: number;
  cpuMs: number;
  /** From the start of play to the last expected delivery. */
  usPerDelivery: number;
  /** From the send at one third of the plan on: the code has been compiled by then (steady state). */
  steadyUsPerDelivery: number;
}

/**
 * Process CPU from the start of play (the bare client's first timer, the runner's `onPlay`) to
 * the last expected delivery, and from the send at one third of the plan on. The harness pays a
 * one-time cost the bare client hardly has: V8 compiling its far larger hot paths (judge,
 * recorder, devices) while the first messages flow. Both figures are printed; the second is the
 * per-message cost a longer run converges to. (The harness sees its sends in listener batches,
 * so its one-third mark is taken up to one batch late: the second figure is approximate.)
 */
class CpuWindow {
  private sends = 0;
  private start: NodeJS.CpuUsage | null = null;
  private warm: NodeJS.CpuUsage | null = null;
  private warmDeliveries = 0;
  private end: { cpu: NodeJS.CpuUsage; deliveries: number } | null = null;

  constructor(private readonly warmAfterSends: number) {}

  begin(): void {
    this.start ??= process.cpuUsage();
  }

  sent(deliveriesSoFar: number): void {
    this.sends++;
    if (this.sends === this.warmAfterSends) {
      this.warm = process.cpuUsage();
      this.warmDeliveries = deliveriesSoFar;
    }
  }

  stop(deliveries: number): void {
    this.end ??= { cpu: process.cpuUsage(), deliveries };
  }

  /** `afterMs`: CPU spent after the window on the run's messages (judging the history file), ms. */
  result(mode: string, sends: number, afterMs = 0): Measured {
    const end = this.end;
    if (!end || !this.start || !this.warm) throw new Error(`${mode}: the measured window never opened or closed`);
    const ms = (from: NodeJS.CpuUsage) => (end.cpu.user - from.user + end.cpu.system - from.system) / 1000;
    const cpuMs = ms(this.start) + afterMs;
    const steadyDeliveries = end.deliveries - this.warmDeliveries;
    const steadyMs = ms(this.warm) + (afterMs * steadyDeliveries) / end.deliveries;
    return {
      mode,
      sends,
      deliveries: end.deliveries,
      cpuMs: Math.round(cpuMs),
      usPerDelivery: Math.round((cpuMs * 1000) / end.deliveries),
      steadyUsPerDelivery: Math.round((steadyMs * 1000) / steadyDeliveries),
    };
  }
}

async function bare(job: Job, plan: Plan): Promise<Measured> {
  let deliveries = 0;
  let acks = 0;
  const expected = expectedDeliveries(plan);
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => (done = r));
  const clock = new CpuWindow(Math.ceil(plan.sends.length / 3));
  // One device at a time: set-up only, outside the measured window.
  const sockets = await connectBareDevices(
    job.toxiproxy, // network URL through the proxy
    plan.accounts.flatMap((a) => a.devices),
    (f) => {
      if (f.t === 'msg') {
        if (++deliveries === expected) done();
      } else if (f.t === 'ack') acks++;
    },
    1,
  );
  const origin = performance.now();
  clock.begin();
  await playBare(plan, sockets, origin, () => clock.sent(deliveries));
  await Promise.race([finished, new Promise((r) => setTimeout(r, 30_000))]);
  clock.stop(deliveries);
  for (const ws of sockets.values()) ws.terminate();
  return clock.result('bare', plan.sends.length);
}

async function harness(job: Job, plan: Plan): Promise<Measured> {
  const judge = createJudge();
  const writer = new HistoryWriter(job.historyFile);
  const clock = new CpuWindow(Math.ceil(plan.sends.length / 3));
  let deliveries = 0;
  const expected = expectedDeliveries(plan);
  // The listeners `chatstorm run` puts on a run (src/cli/run-command.ts), each guarded as there,
  // the progress line ticked every second; then the bench's own clock.
  const guard = (name: string, fn: (e: HistoryEvent) => void) =>
    guardListener(name, fn, (m) => {
      throw new Error(m);
    });
  const live = job.judge === 'live';
  const progress = new LiveProgressTracker(live ? { anomalies: () => liveAnomalies(judge), deliveryP99Ms: () => liveDeliveryP99Ms(judge) } : null);
  await runPlan({
    plan,
    target: job.server,
    toxiproxy: job.toxiproxy,
    onPlay: () => {
      progress.markPlay();
      clock.begin();
    },
    onProgress: (p) => void formatProgress(progress.tick(p)),
    listeners: [
      guard('the history writer', writer.write),
      ...(live ? [guard('the live judge', (e: HistoryEvent) => judge.step(e))] : []),
      guard('the fault log', new FaultLog().step),
      guard('the throughput meter', new ThroughputMeter().step),
      guard('the report series', new RunSeries().step),
      guard('the progress line', progress.step),
      (e) => {
        if (e.type === 'send' && e.attempt === 1) clock.sent(deliveries);
        else if (e.type === 'deliver') {
          // Stop the clock where the bare client stops it: at the last expected delivery. The
          // writer and the judge have taken it by now; the writer's pending lines are written
          // out inside the window too.
          if (++deliveries === expected) {
            writer.flush();
            clock.stop(deliveries);
          }
        } else if (e.type === 'run-end') clock.stop(deliveries);
      },
    ],
  });
  await writer.close();
  if (process.env.KEEP_HISTORY) copyFileSync(job.historyFile, process.env.KEEP_HISTORY);
  // --judge after: what `chatstorm run --judge after` does once the writer has closed the file.
  const before = process.cpuUsage();
  if (!live) await forEachHistoryEvent(job.historyFile, (e) => judge.step(e));
  const used = process.cpuUsage(before);
  const afterMs = live ? 0 : (used.user + used.system) / 1000;
  const v = judge.result();
  if (v.checks.loss?.status !== 'pass') throw new Error(`harness run did not pass loss: ${JSON.stringify(v.checks.loss)}`);
  return clock.result('harness', plan.sends.length, afterMs);
}

/** One side, in a child process, against a fresh reference server behind a fresh embedded proxy. */
async function measure(mode: Job['mode'], plan: Plan, dir: string, planFile: string, judge: Job['judge']): Promise<Measured> {
  const target = await startFreshTarget(flagsOf('BENCH_PROXY_FLAGS'));
  try {
    // The bare client goes through a proxy too, so both sides cross the same hops.
    const toxiproxy = mode === 'bare' ? await bareProxy(target, plan, 'bare') : target.proxyApi.url;
    const job: Job = { mode, planFile, server: target.server.url, toxiproxy, historyFile: join(dir, 'history.jsonl'), judge };
    const jobFile = join(dir, `${mode}.json`);
    writeFileSync(jobFile, JSON.stringify(job));
    const flags = [...(process.env.CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/chatstorm-prof'] : []), ...flagsOf('BENCH_CHILD_FLAGS')];
    return await runMeasurementChild<Measured>(fileURLToPath(import.meta.url), jobFile, flags);
  } finally {
    await target.stop();
  }
}

async function parent(): Promise<void> {
  const customers = numericArg('customers', 400);
  const perCustomer = numericArg('messages', 40);
  const seconds = numericArg('seconds', 60);
  const rounds = numericArg('rounds', 3);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a whole number ≥ 1, got ${rounds}`);
  const onlyAt = process.argv.indexOf('--only');
  const only = onlyAt >= 0 ? process.argv[onlyAt + 1] : undefined;
  if (only !== undefined && only !== 'harness' && only !== 'bare') throw new Error(`--only must be harness or bare, got ${only}`);
  const judge = judgeArg();
  const control = process.argv.includes('--control');
  if (control && only !== undefined) throw new Error('--control compares two bare runs with the pair: leave out --only');
  const scenario = steadyScenario({ name: 'cpu', agents: 20, customers, perCustomer, seconds });
  const plan = buildPlan(scenario);
  const dir = mkdtempSync(join(tmpdir(), 'chatstorm-cpu-'));
  const planFile = join(dir, 'plan.json');
  writeFileSync(planFile, JSON.stringify(plan));
  const results: (Measured & { round: number })[] = [];
  const pairs: [Measured, Measured][] = [];
  /** With --control: the second bare run ÷ the first, by round. */
  const controlRatios: number[] = [];
  try {
    for (let round = 1; round <= rounds; round++) {
      const pair = await pairedRound(round, control, async (mode, side) => {
        if (only !== undefined && mode !== only) return null;
        const m = await measure(mode, plan, dir, planFile, judge);
        results.push({ round, ...m, mode: side });
        return m;
      });
      if (pair.controlRatio !== undefined) controlRatios.push(pair.controlRatio);
      if (pair.bare && pair.harness) pairs.push([pair.bare, pair.harness]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (only !== undefined) {
    console.table(results);
    const side = results.map((r) => r.usPerDelivery);
    console.log(`${only} only: µs per delivery by round ${side.join(', ')}; median ${median(side)}; steady median ${median(results.map((r) => r.steadyUsPerDelivery))}`);
    return;
  }
  const ratios = pairs.map(([b, h]) => h.usPerDelivery / b.usPerDelivery);
  const steady = pairs.map(([b, h]) => h.steadyUsPerDelivery / b.steadyUsPerDelivery);
  console.log(`cpu-per-message: ${plan.sends.length} sends, ${expectedDeliveries(plan)} expected deliveries over ${seconds} s, ${rounds} round(s), judge ${judge}`);
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, node ${process.version}`);
  console.table(results);
  console.log(`ratios by round, whole run: ${ratios.map((r) => r.toFixed(2)).join(', ')}; steady state: ${steady.map((r) => r.toFixed(2)).join(', ')}`);
  console.log(
    `harness CPU per delivered-and-checked message (medians), whole run: ${median(pairs.map(([, h]) => h.usPerDelivery))} µs vs ` +
      `bare ws client ${median(pairs.map(([b]) => b.usPerDelivery))} µs, ratio ${median(ratios).toFixed(2)}; ` +
      `steady state: ${median(pairs.map(([, h]) => h.steadyUsPerDelivery))} µs vs ${median(pairs.map(([b]) => b.steadyUsPerDelivery))} µs, ` +
      `ratio ${median(steady).toFixed(2)} (target ≤ 1.5)`,
  );
  if (control) {
    const spread = controlRatios.map((r) => r.toFixed(2)).join(', ');
    console.log(`control (the method's own noise): a second bare run ÷ the first, by round: ${spread}; median ${median(controlRatios).toFixed(2)}`);
  }
}

if (process.argv.includes('--child')) {
  const job = JSON.parse(readFileSync(process.argv[process.argv.indexOf('--child') + 1]!, 'utf8')) as Job;
  const plan = JSON.parse(readFileSync(job.planFile, 'utf8')) as Plan;
  const m = job.mode === 'bare' ? await bare(job, plan) : await harness(job, plan);
  process.stdout.write(JSON.stringify(m));
  process.exit(0);
} else {
  await parent();
}
