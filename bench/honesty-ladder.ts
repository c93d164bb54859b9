/**
 * Honesty ladder: at each offered rate, does chatstorm report the server's delivery delays (as a
 * bare `ws` client sees them), or say that it cannot (exit 3)?
 *
 *   node --import tsx bench/honesty-ladder.ts [--rates 500,1000,2000,4000] [--seconds 10]
 *        [--connections 500] [--latency 0] [--rounds 1]
 *
 * For each rate, one plan (connections − 20 customers and 20 agents, one device each; sends spread
 * over the window at that rate) is played by both sides, each in its own child process against a
 * fresh reference server (memory store, no rate limit) behind a fresh embedded proxy (with a
 * `--latency` ms toxic downstream when given), the order alternating by round:
 *   bare:      ws clients writing the planned frames at their planned times; delivery delay =
 *              arrival − intended send time, first arrival per device, in an HDR histogram
 *   chatstorm: runScenario (runner, live judge, history writer, gate): its delivery p50/p99, its
 *              harness lag and its exit code
 *   artillery: where installed (ARTILLERY_BIN, else `artillery` on PATH), Artillery 2's ws engine
 *              the plan's customer devices sending as many frames as the plan at the same mean rate,
 *              fire and forget (it records no delivery): the rate it achieved, for comparison;
 *              telemetry disabled. Not installed: the bench says so and goes on.
 * Pass criterion, printed: at every rate and round either chatstorm's delivery p50 and p99 are
 * within max(5 ms, 10 %) of the bare client's, or chatstorm exited 3 (it said the harness could
 * not measure honestly). Exit code of the bench: 0 when met, 1 when not.
 * Bounded: finite plans, every wait has a deadline.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { flagsOf, numericArg, runMeasurementChild } from './measure-child.ts';
import { expectedDeliveries } from './lib/expected-deliveries.ts';
import { AGENTS, rateScenario } from './lib/rate-scenario.ts';
import { startFreshTarget, bareProxy } from './lib/fresh-target.ts';
import { connectBareDevices, playBare } from './lib/bare-client.ts';
import { buildPlan, type Plan } from '../src/plan/plan.ts';
import { validateScenario } from '../src/scenario/validate.ts';
import type { ScenarioInput } from '../src/scenario/index.ts';
import { runScenario } from '../src/cli/run-command.ts';
import { LatencyHistogram } from '../src/stats/hdr.ts';

interface Job {
  mode: 'bare' | 'chatstorm';
  scenario: ScenarioInput;
  planFile: string;
  server: string;
  /** bare: the network URL through its proxy; chatstorm: the proxy's API URL. */
  proxy: string;
  out: string;
}
interface Measured {
  mode: Job['mode'];
  deliveries: number;
  p50Ms: number;
  p99Ms: number;
  /** chatstorm only: its exit code, harness lag p99 and whether it judged the lag material. */
  exitCode?: number;
  harnessLagP99Ms?: number;
  material?: boolean;
  error?: string | null;
}

async function bare(job: Job, plan: Plan): Promise<Measured> {
  const delays = new LatencyHistogram({ lowestUs: 1, digits: 3 });
  const atMsByKey = new Map(plan.sends.map((s) => [s.key, s.atMs]));
  const expected = expectedDeliveries(plan);
  let deliveries = 0;
  let origin = Infinity; // no delivery is timed before play
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => (done = r));
  const sockets = await connectBareDevices(job.proxy, plan.accounts.flatMap((a) => a.devices), (f, now) => {
    if (f.t !== 'msg') return;
    const atMs = f.replay ? undefined : atMsByKey.get(f.cid ?? '');
    if (atMs !== undefined) delays.recordMs(now - (origin + atMs));
    if (++deliveries === expected) done();
  });
  origin = performance.now();
  await playBare(plan, sockets, origin);
  await Promise.race([finished, new Promise((r) => setTimeout(r, 30_000))]);
  for (const ws of sockets.values()) ws.terminate();
  return { mode: 'bare', deliveries, p50Ms: delays.percentileMs(50), p99Ms: delays.percentileMs(99) };
}

async function chatstorm(job: Job): Promise<Measured> {
  const r = await runScenario({ scenario: job.scenario, target: job.server, toxiproxy: job.proxy, out: job.out });
  const d = r.summary.metrics['delivery'];
  return {
    mode: 'chatstorm',
    deliveries: d?.count ?? 0,
    p50Ms: d?.p50Ms ?? NaN,
    p99Ms: d?.p99Ms ?? NaN,
    exitCode: r.exitCode,
    harnessLagP99Ms: r.summary.harnessLag?.p99Ms ?? NaN,
    material: r.summary.harnessLag?.material ?? false,
    error: r.summary.error,
  };
}

/** One side, in a child process, against a fresh reference server behind a fresh embedded proxy. */
async function measure(mode: Job['mode'], scenario: ScenarioInput, plan: Plan, dir: string, planFile: string, latencyMs: number): Promise<Measured> {
  const target = await startFreshTarget();
  try {
    // The bare client crosses the same hops: a proxy, and the same toxic downstream.
    const proxy = mode === 'bare' ? await bareProxy(target, plan, 'bare', latencyMs) : target.proxyApi.url;
    const job: Job = { mode, scenario, planFile, server: target.server.url, proxy, out: join(dir, 'reports') };
    const jobFile = join(dir, `${mode}.json`);
    writeFileSync(jobFile, JSON.stringify(job));
    // BENCH_CHILD_FLAGS: node flags for the chatstorm child only (an experiment with V8's settings).
    return await runMeasurementChild<Measured>(fileURLToPath(import.meta.url), jobFile, mode === 'chatstorm' ? flagsOf('BENCH_CHILD_FLAGS') : []);
  } finally {
    await target.stop();
  }
}

/** The Artillery binary: ARTILLERY_BIN, else `artillery` on PATH, else null. */
function artilleryBin(): string | null {
  const given = process.env.ARTILLERY_BIN;
  if (given) return existsSync(given) ? given : null;
  const found = spawnSync('sh', ['-c', 'command -v artillery'], { encoding: 'utf8' });
  return found.status === 0 && found.stdout.trim() ? found.stdout.trim() : null;
}

/**
 * Artillery's fire-and-forget rate on the same plan's customers: each customer device connects
 * through the proxy and sends its planned number of frames with the plan's mean think time.
 * Returns the frames it sent per second of its sending window (from its report's counters).
 */
async function artillery(bin: string, plan: Plan, dir: string): Promise<{ sent: number; perSecond: number } | string> {
  const target = await startFreshTarget();
  try {
    const base = await bareProxy(target, plan, 'artillery');
    const customers = plan.accounts.filter((a) => a.role === 'customer');
    const convOf = new Map<string, string>();
    for (const c of plan.conversations) for (const m of c.members) if (!convOf.has(m)) convOf.set(m, c.id);
    const rows = customers.map((a) => `${base}/ws?device=${encodeURIComponent(a.devices[0]!.id)}&token=${a.devices[0]!.token},${convOf.get(a.id)}`);
    writeFileSync(join(dir, 'devices.csv'), rows.join('\n') + '\n');
    // Every planned send (agents' too) spread over the customer devices: the same frames per second.
    const perVu = Math.max(1, Math.round(plan.sends.length / customers.length));
    // Artillery reads a non-integer think as milliseconds through `ms()`: give it a unit.
    const think = `${Math.round(plan.sendWindowMs / perVu)}ms`;
    const script = {
      config: {
        target: base,
        phases: [{ duration: 1, arrivalCount: customers.length }],
        payload: { path: 'devices.csv', fields: ['url', 'conv'], order: 'sequence' },
      },
      scenarios: [
        {
          engine: 'ws',
          flow: [
            { connect: '{{ url }}' },
            { loop: [{ send: '{"t":"send","cid":"a{{ $loopCount }}","conv":"{{ conv }}","kind":"text","body":"artillery"}' }, { think }], count: perVu },
          ],
        },
      ],
    };
    writeFileSync(join(dir, 'artillery.json'), JSON.stringify(script));
    const out = spawnSync(bin, ['run', '--output', join(dir, 'artillery-report.json'), join(dir, 'artillery.json')], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 300_000,
      env: { ...process.env, ARTILLERY_DISABLE_TELEMETRY: 'true', DO_NOT_TRACK: '1' },
    });
    if (out.status !== 0) return `artillery exited ${out.status}: ${(out.stderr || out.stdout).slice(-300)}`;
    const report = JSON.parse(readFileSync(join(dir, 'artillery-report.json'), 'utf8')) as {
      aggregate: { counters: Record<string, number>; firstCounterAt?: number; lastCounterAt?: number };
    };
    const sent = report.aggregate.counters['websocket.messages_sent'] ?? 0;
    const { firstCounterAt, lastCounterAt } = report.aggregate;
    const seconds = firstCounterAt && lastCounterAt && lastCounterAt > firstCounterAt ? (lastCounterAt - firstCounterAt) / 1000 : plan.sendWindowMs / 1000;
    return { sent, perSecond: Math.round(sent / seconds) };
  } finally {
    await target.stop();
  }
}

/** Within max(5 ms, 10 %) of the bare client's figure. */
function within(chatstormMs: number, bareMs: number): boolean {
  return Math.abs(chatstormMs - bareMs) <= Math.max(5, 0.1 * bareMs);
}

async function parent(): Promise<void> {
  const ratesArg = process.argv.indexOf('--rates');
  const rates = (ratesArg >= 0 ? process.argv[ratesArg + 1]! : '500,1000,2000,4000').split(',').map(Number);
  const seconds = numericArg('seconds', 10);
  const connections = numericArg('connections', 500);
  const latencyMs = numericArg('latency', 0);
  const rounds = numericArg('rounds', 1);
  if (rates.some((r) => !(r > 0)) || !(connections > AGENTS) || !Number.isInteger(rounds) || rounds < 1) {
    throw new Error('--rates takes positive numbers (e.g. 500,1000), --connections more than 20, --rounds a whole number ≥ 1');
  }
  console.log(`honesty-ladder: ${connections} connections, ${seconds} s per run, latency toxic ${latencyMs} ms, rates ${rates.join(', ')} msg/s, ${rounds} round(s)`);
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, node ${process.version}, load average at start ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const rows: Record<string, string | number | boolean>[] = [];
  const bin = artilleryBin();
  console.log(bin ? `artillery: ${bin}` : 'artillery: not installed (set ARTILLERY_BIN or put `artillery` on PATH); skipped');
  let met = true;
  const dir = mkdtempSync(join(tmpdir(), 'chatstorm-ladder-'));
  try {
    for (const rate of rates) {
      const scenario = rateScenario(rate, seconds, connections, latencyMs);
      const plan = buildPlan(validateScenario(scenario));
      const planFile = join(dir, 'plan.json');
      writeFileSync(planFile, JSON.stringify(plan));
      const offered = Math.round(plan.sends.length / (plan.sendWindowMs / 1000));
      for (let round = 1; round <= rounds; round++) {
        const pair: Partial<Record<Job['mode'], Measured>> = {};
        for (const mode of round % 2 === 1 ? (['bare', 'chatstorm'] as const) : (['chatstorm', 'bare'] as const)) {
          pair[mode] = await measure(mode, scenario, plan, dir, planFile, latencyMs);
        }
        const b = pair.bare!;
        const c = pair.chatstorm!;
        const honest = within(c.p50Ms, b.p50Ms) && within(c.p99Ms, b.p99Ms);
        const ok = c.exitCode === 3 || honest;
        met &&= ok;
        rows.push({
          rate: offered,
          round,
          'bare p50': b.p50Ms,
          'bare p99': b.p99Ms,
          'cs p50': c.p50Ms,
          'cs p99': c.p99Ms,
          'cs lag p99': c.harnessLagP99Ms ?? NaN,
          'cs exit': c.exitCode ?? NaN,
          'within': honest,
          criterion: ok ? 'met' : 'NOT MET',
        });
        console.log(JSON.stringify(rows.at(-1)) + (c.error ? `  (${c.error.slice(0, 100)}…)` : ''));
      }
      if (bin) {
        const a = await artillery(bin, plan, dir);
        console.log(typeof a === 'string' ? `artillery at ${offered} msg/s offered: ${a}` : `artillery at ${offered} msg/s offered: sent ${a.sent} frames, achieved ${a.perSecond} msg/s (fire and forget)`);
        rows.push({ rate: offered, round: 'artillery', criterion: typeof a === 'string' ? 'failed to run' : `achieved ${a.perSecond} msg/s` });
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.table(rows);
  console.log(
    'pass criterion: at every rate either chatstorm\'s delivery p50 and p99 are within max(5 ms, 10 %) of the bare client\'s, or chatstorm exited 3: ' +
      (met ? 'MET' : 'NOT MET'),
  );
  process.exitCode = met ? 0 : 1;
}

if (process.argv.includes('--child')) {
  const job = JSON.parse(readFileSync(process.argv[process.argv.indexOf('--child') + 1]!, 'utf8')) as Job;
  const plan = JSON.parse(readFileSync(job.planFile, 'utf8')) as Plan;
  const m = job.mode === 'bare' ? await bare(job, plan) : await chatstorm(job);
  process.stdout.write(JSON.stringify(m));
  process.exit(0);
} else {
  await parent();
}
