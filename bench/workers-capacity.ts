/**
 * Capacity of the harness with 1 and 2 local workers, against a bare `ws` client in the same run
 * (issue 16): the most checked deliveries per second and concurrent devices each side carries
 * honestly, the harness CPU per delivered-and-checked message with 1 and 2 workers, and the
 * server's own CPU share.
 *
 *   node --import tsx bench/workers-capacity.ts [--quick] [--rounds 3] [--rates 250,500,1000,...]
 *        [--seconds 10] [--connections 500] [--latency 100] [--devices 2000,5000,9000]
 *        [--device-rate 200]
 *
 *   per round:  rate ladder (connections fixed)       device ladder (rate fixed)
 *               rung r: bare, w1, w2 (order rotates)  rung d: bare, w1, w2
 *               ceiling: the last rung carried honestly before the first that was not; a side
 *               climbs on (for its CPU per message) until a rung is not delivered in full
 *   each side:  fresh reference server (memory store, no rate limit) in a child process
 *               bare: a bare ws client through a fresh embedded proxy (latency toxic downstream)
 *               w1/w2: `runWorkers` (what `chatstorm run --workers N` calls) with the scenario
 *                      file, `--target` the server; it starts its own embedded proxy per worker
 *
 * "Carried honestly":
 *   w1, w2: the run passed (exit 0): every check passed and the gate's harness-lag rule did not
 *           end it with exit 3 (src/check/gate.ts weighHarnessLag, docs/honesty.md); and, as for
 *           the bare client, every expected delivery arrived (a run may pass with sends of
 *           unknown outcome left when its grace period ends: not a loss, not carried either);
 *   bare:   every expected delivery arrived, and its own lateness (send lag + event-loop delay,
 *           p50 and p99) stayed within the same limits: max(5 ms, 10 % of its delivery delay).
 * Ceiling of a side in a round: its highest rung carried before the first it did not.
 *
 * CPU (Linux /proc, 10 ms ticks): every process's user + system time, sampled when play starts
 * (the first progress tick in phase `play`; for the bare client, its first send) and at the end.
 *   harness CPU = the measuring process (in-process runner with 1 worker; the parent: progress,
 *                 barrier, merge with 2) + its worker processes; the embedded proxies are counted
 *                 apart (`proxy`), like the server (`server`).
 *   per delivery = CPU from play to the end of the run (drain, teardown, reports and, with 2
 *                 workers, the merge: everything after the fixed start-up) / deliveries after the
 *                 play sample. The bare client's window ends at its last expected delivery.
 * Memory: resident set (VmRSS) of the harness processes when play starts (every device live).
 * Bounded: finite rungs and rounds, finite plans, every child has a deadline.
 */
import { readFileSync, readdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { numericArg, runMeasurementChild } from './measure-child.ts';
import { median } from './lib/median.ts';
import { expectedDeliveries } from './lib/expected-deliveries.ts';
import { rateScenario } from './lib/rate-scenario.ts';
import { startFreshTarget, bareProxy } from './lib/fresh-target.ts';
import { connectBareDevices, playBare } from './lib/bare-client.ts';
import { buildPlan, type Plan } from '../src/plan/plan.ts';
import { validateScenario } from '../src/scenario/validate.ts';
import { runWorkers } from '../src/shard/local-workers.ts';
import type { Summary } from '../src/report/summary.ts';
import { LatencyHistogram } from '../src/stats/hdr.ts';
import { HARNESS_LAG_FLOOR_MS, HARNESS_LAG_SHARE } from '../src/check/index.ts';

type Side = 'bare' | 'w1' | 'w2';
const SIDES: readonly Side[] = ['bare', 'w1', 'w2'];

interface Job {
  side: Side;
  scenarioFile: string;
  planFile: string;
  server: { url: string; pid: number };
  /** bare only: its proxy's network URL and the proxy process. */
  bare?: { url: string; proxyPid: number };
  out: string;
}

interface Measured {
  side: Side;
  devices: number;
  expected: number;
  deliveries: number;
  /** Planned deliveries per second of the send window. */
  offeredPerS: number;
  honest: boolean;
  why: string;
  deliveryP50Ms: number;
  deliveryP99Ms: number;
  lagP50Ms: number;
  lagP99Ms: number;
  /** CPU from the start of play to the end, per delivery after the play sample, µs. */
  harnessUs: number;
  serverUs: number;
  proxyUs: number;
  /** Harness CPU from the play sample to the end (ms), and the deliveries after the play sample. */
  windowCpuMs: number;
  windowDeliveries: number;
  /** Harness CPU before play: start-up, provisioning, connecting (fixed per run), ms. */
  fixedMs: number;
  /** Resident set of the harness processes at play, MB. */
  rssMB: number;
  serverRssMB: number;
}

// ---- /proc: CPU and memory of one process --------------------------------------------------

const TICK_MS = 10; // getconf CLK_TCK = 100 on Linux

/** utime + stime of a live process (ms), or, with `reaped`, of its waited-for children. */
function procCpuMs(pid: number | 'self', reaped = false): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command (which may hold spaces) start at field 3.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const at = reaped ? 13 : 11; // utime is field 14, cutime field 16 (1-based)
    return (Number(f[at]) + Number(f[at + 1])) * TICK_MS;
  } catch {
    return NaN; // gone
  }
}

function procRssMB(pid: number | 'self'): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** This process's live children, each as worker or proxy (by its command line). */
function children(): { pid: number; kind: 'proxy' | 'worker' }[] {
  const out: { pid: number; kind: 'proxy' | 'worker' }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      out.push({ pid: Number(name), kind: argv.includes('proxy') ? 'proxy' : 'worker' });
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

function selfCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * Keeps the last CPU reading of each proxy child: once reaped, a child's time is only known in the
 * children total. The proxies are found once (a scan of /proc, at play); after that only their own
 * stat files are read, every 100 ms, which costs the measuring process's event loop next to nothing.
 */
class ProxyWatch {
  private readonly last = new Map<number, number>();
  private timer: NodeJS.Timeout | null = null;
  /** Find the proxy children (once) and start reading them. */
  found(pids: readonly number[]): void {
    if (this.timer) return;
    for (const pid of pids) this.last.set(pid, 0);
    this.poll();
    this.timer = setInterval(() => this.poll(), 100);
  }
  poll(): number {
    for (const pid of this.last.keys()) {
      const ms = procCpuMs(pid);
      if (Number.isFinite(ms)) this.last.set(pid, ms);
    }
    let n = 0;
    for (const ms of this.last.values()) n += ms;
    return n;
  }
  stop(): number {
    if (this.timer) clearInterval(this.timer);
    return this.poll();
  }
}

// ---- the measured sides (each in its own child process) -----------------------------------

interface Mark {
  harnessMs: number;
  serverMs: number;
  proxyMs: number;
  deliveries: number;
}

async function workersSide(job: Job, plan: Plan): Promise<Measured> {
  delete process.env.TOXIPROXY_URL; // each worker gets its own embedded proxy, as by default
  const workers = job.side === 'w1' ? 1 : 2;
  const proxies = new ProxyWatch();
  const at: { play: (Mark & { rssMB: number; serverRssMB: number }) | null } = { play: null };
  const runId = `capacity-${job.side}-${process.pid}`;
  const r = await runWorkers({
    workers,
    scenario: job.scenarioFile,
    target: job.server.url,
    out: job.out,
    runId,
    onProgress: (p) => {
      if (at.play || p.phase !== 'play') return;
      const live = children();
      const liveWorkers = live.filter((c) => c.kind === 'worker');
      proxies.found(live.filter((c) => c.kind === 'proxy').map((c) => c.pid));
      at.play = {
        harnessMs: selfCpuMs() + liveWorkers.reduce((n, c) => n + procCpuMs(c.pid), 0),
        serverMs: procCpuMs(job.server.pid),
        proxyMs: proxies.poll(),
        deliveries: p.delivered,
        rssMB: procRssMB('self') + liveWorkers.reduce((n, c) => n + procRssMB(c.pid), 0),
        serverRssMB: procRssMB(job.server.pid),
      };
    },
  });
  const proxyMs = proxies.stop();
  // Every child has been waited for: its time is in this process's children total.
  const end: Mark = {
    harnessMs: selfCpuMs() + procCpuMs('self', true) - proxyMs,
    serverMs: procCpuMs(job.server.pid),
    proxyMs,
    deliveries: deliveredCount(r.summary, job.out, runId, workers),
  };
  const s = r.summary;
  const d = s.metrics['delivery'];
  const lag = runLag(s, job.out, runId, workers);
  // Carried: the run passed and every expected delivery arrived, as the bare side must. A run
  // whose grace ends with a backlog still passes (a send with no ack and no delivery has an
  // unknown outcome, not a loss) with delay percentiles over what arrived only: `chatstorm run
  // --workers 2` at 10,000 msg/s against a server that could not keep up (SQLite store) passed
  // with 22 % of the deliveries missing (docs/performance.md, session 8).
  const expected = expectedDeliveries(plan);
  const honest = r.exitCode === 0 && end.deliveries >= expected;
  const start = at.play;
  return {
    ...common(job, plan, end.deliveries),
    honest,
    why: honest
      ? 'pass'
      : r.exitCode !== 0
        ? `exit ${r.exitCode}: ${firstCause(s.error ?? s.endReason ?? '').slice(0, 160)}`
        : `exit 0, but ${expected - end.deliveries} of ${expected} deliveries missing when the grace period ended`,
    deliveryP50Ms: round1(d?.p50Ms ?? NaN),
    deliveryP99Ms: round1(d?.p99Ms ?? NaN),
    lagP50Ms: round1(lag.p50Ms),
    lagP99Ms: round1(lag.p99Ms),
    ...perDelivery(start, end),
    fixedMs: Math.round(start?.harnessMs ?? NaN),
    rssMB: Math.round(start?.rssMB ?? NaN),
    serverRssMB: Math.round(start?.serverRssMB ?? NaN),
  };
}

/**
 * Deliveries the run judged. A merged verdict `error` (a shard's own lag was material) leaves
 * that shard's messages out of its metrics, but the shard judged them: its own summary counts them.
 */
function deliveredCount(merged: Summary, out: string, runId: string, workers: number): number {
  const count = merged.metrics['delivery']?.count;
  if (count !== undefined || workers === 1) return count ?? 0;
  return shardSummaries(out, runId, workers).reduce((n, s) => n + (s.metrics['delivery']?.count ?? 0), 0);
}

/** The shards' own summaries (those that wrote one). */
function shardSummaries(out: string, runId: string, workers: number): Summary[] {
  const found: Summary[] = [];
  for (let i = 1; i <= workers; i++) {
    try {
      found.push(JSON.parse(readFileSync(join(out, `${runId}-s${i}of${workers}`, 'summary.json'), 'utf8')) as Summary);
    } catch {
      // a shard without a summary judged nothing
    }
  }
  return found;
}

/**
 * The cause worth printing from a merged run's error: with several shards it lists each as
 * "shard i/n (<dir>) failed: …", and the shards the parent stopped come first as often as not
 * ("failed: stopped: shard j/n failed"), so a cut of the whole text showed no cause. The first
 * shard that failed on its own, without its folder; the text unchanged when there is none.
 */
function firstCause(error: string): string {
  const shards = error.split(/; (?=shard \d+\/\d+ )/);
  const own = shards.find((t) => /^shard \d+\/\d+ /.test(t) && !/ failed: stopped: /.test(t));
  return own === undefined ? error : own.replace(/ \([^)]*\) failed: /, ' failed: ');
}

/**
 * The run's harness lag as the gate weighed it: with workers, the worst shard's (the merged
 * summary keeps only the worst per-second windows, a larger figure than the run-level one).
 */
function runLag(merged: Summary, out: string, runId: string, workers: number): { p50Ms: number; p99Ms: number } {
  const lags = (workers === 1 ? [merged] : shardSummaries(out, runId, workers)).flatMap((s) => (s.harnessLag ? [s.harnessLag] : []));
  if (lags.length === 0) return { p50Ms: NaN, p99Ms: NaN };
  return { p50Ms: Math.max(...lags.map((l) => l.p50Ms)), p99Ms: Math.max(...lags.map((l) => l.p99Ms)) };
}

async function bareSide(job: Job, plan: Plan): Promise<Measured> {
  const bare = job.bare!;
  const delays = new LatencyHistogram({ lowestUs: 1, digits: 3 });
  const sendLag = new LatencyHistogram({ lowestUs: 1, digits: 3 });
  const atMsByKey = new Map(plan.sends.map((s) => [s.key, s.atMs]));
  const expected = expectedDeliveries(plan);
  let deliveries = 0;
  let origin = Infinity;
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => (done = r));
  let end: Mark | null = null;
  const mark = (): Mark => ({ harnessMs: selfCpuMs(), serverMs: procCpuMs(job.server.pid), proxyMs: procCpuMs(bare.proxyPid), deliveries });
  const sockets = await connectBareDevices(bare.url, plan.accounts.flatMap((a) => a.devices), (f, now) => {
    if (f.t !== 'msg') return;
    const atMs = f.replay ? undefined : atMsByKey.get(f.cid ?? '');
    if (atMs !== undefined) delays.recordMs(now - (origin + atMs));
    if (++deliveries === expected) {
      end = mark();
      done();
    }
  });
  const rssMB = procRssMB('self');
  const serverRssMB = procRssMB(job.server.pid);
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  origin = performance.now();
  const start = mark();
  await playBare(plan, sockets, origin, (lateMs) => sendLag.recordMs(Math.max(0, lateMs)));
  await Promise.race([finished, new Promise((r) => setTimeout(r, 30_000))]);
  loop.disable();
  end ??= mark();
  for (const ws of sockets.values()) ws.terminate();
  const p50 = delays.percentileMs(50);
  const p99 = delays.percentileMs(99);
  // The gate's rule, on the bare client's own lateness (see the header).
  const lagP50Ms = sendLag.percentileMs(50) + loop.percentile(50) / 1e6;
  const lagP99Ms = sendLag.percentileMs(99) + loop.percentile(99) / 1e6;
  const limit = (ms: number) => Math.max(HARNESS_LAG_FLOOR_MS, HARNESS_LAG_SHARE * ms);
  const complete = deliveries === expected;
  const honest = complete && lagP50Ms <= limit(p50) && lagP99Ms <= limit(p99);
  return {
    ...common(job, plan, deliveries),
    honest,
    why: honest ? 'carried' : !complete ? `${expected - deliveries} deliveries missing after 30 s` : `own lag p50 ${lagP50Ms.toFixed(1)} / p99 ${lagP99Ms.toFixed(1)} ms over the limit`,
    deliveryP50Ms: round1(p50),
    deliveryP99Ms: round1(p99),
    lagP50Ms: round1(lagP50Ms),
    lagP99Ms: round1(lagP99Ms),
    ...perDelivery(start, end),
    fixedMs: Math.round(start.harnessMs),
    rssMB: Math.round(rssMB),
    serverRssMB: Math.round(serverRssMB),
  };
}

function common(job: Job, plan: Plan, deliveries: number) {
  const expected = expectedDeliveries(plan);
  return {
    side: job.side,
    devices: plan.accounts.reduce((n, a) => n + a.devices.length, 0),
    expected,
    deliveries,
    offeredPerS: Math.round(expected / (plan.sendWindowMs / 1000)),
  };
}

function perDelivery(start: Mark | null, end: Mark): Pick<Measured, 'harnessUs' | 'serverUs' | 'proxyUs' | 'windowCpuMs' | 'windowDeliveries'> {
  if (!start || end.deliveries <= start.deliveries) return { harnessUs: NaN, serverUs: NaN, proxyUs: NaN, windowCpuMs: NaN, windowDeliveries: 0 };
  const n = end.deliveries - start.deliveries;
  const us = (k: keyof Omit<Mark, 'deliveries'>) => round1(((end[k] - start[k]) * 1000) / n);
  return { harnessUs: us('harnessMs'), serverUs: us('serverMs'), proxyUs: us('proxyMs'), windowCpuMs: Math.round(end.harnessMs - start.harnessMs), windowDeliveries: n };
}

// ---- the parent: ladders, rounds, figures ---------------------------------------------------

interface Rung {
  kind: 'rate' | 'devices';
  rate: number;
  devices: number;
  latencyMs: number;
  scenarioFile: string;
  planFile: string;
  plan: Plan;
}

async function measure(side: Side, rung: Rung, dir: string): Promise<Measured> {
  const target = await startFreshTarget();
  try {
    const bare = side === 'bare' ? { url: await bareProxy(target, rung.plan, 'bare', rung.latencyMs), proxyPid: target.proxyApi.pid ?? NaN } : undefined;
    const job: Job = { side, scenarioFile: rung.scenarioFile, planFile: rung.planFile, server: { url: target.server.url, pid: target.server.pid }, bare, out: join(dir, 'reports') };
    const jobFile = join(dir, `${side}.json`);
    writeFileSync(jobFile, JSON.stringify(job));
    try {
      return await runMeasurementChild<Measured>(fileURLToPath(import.meta.url), jobFile, [], 600_000);
    } catch (err) {
      // A side that crashed did not carry the rung; say so and go on with the others.
      return { ...failed(side, rung), why: `crashed: ${String(err instanceof Error ? err.message : err).slice(0, 200)}` };
    }
  } finally {
    rmSync(join(dir, 'reports'), { recursive: true, force: true });
    await target.stop();
  }
}

function failed(side: Side, rung: Rung): Measured {
  const expected = expectedDeliveries(rung.plan);
  return {
    side, devices: rung.devices, expected, deliveries: 0, offeredPerS: Math.round(expected / (rung.plan.sendWindowMs / 1000)), honest: false, why: '',
    deliveryP50Ms: NaN, deliveryP99Ms: NaN, lagP50Ms: NaN, lagP99Ms: NaN, harnessUs: NaN, serverUs: NaN, proxyUs: NaN, windowCpuMs: NaN, windowDeliveries: 0, fixedMs: NaN, rssMB: NaN, serverRssMB: NaN,
  };
}

function makeRung(kind: Rung['kind'], rate: number, devices: number, seconds: number, latencyMs: number, dir: string): Rung {
  const scenario = rateScenario(rate, seconds, devices, latencyMs, `capacity-${kind}`);
  const plan = buildPlan(validateScenario(scenario));
  const base = join(dir, `${kind}-${rate}-${devices}`);
  const scenarioFile = `${base}-scenario.mjs`;
  writeFileSync(scenarioFile, `export default ${JSON.stringify(scenario)};\n`);
  writeFileSync(`${base}-plan.json`, JSON.stringify(plan));
  return { kind, rate, devices, latencyMs, scenarioFile, planFile: `${base}-plan.json`, plan };
}

function listArg(name: string, dflt: number[]): number[] {
  const i = process.argv.indexOf(`--${name}`);
  const xs = i >= 0 ? (process.argv[i + 1] ?? '').split(',').map(Number) : dflt;
  if (xs.length === 0 || xs.some((x) => !(x > 0))) throw new Error(`--${name} takes positive numbers separated by commas (e.g. 500,1000), got ${process.argv[i + 1]}`);
  return [...xs].sort((a, b) => a - b);
}

const round1 = (x: number) => Math.round(x * 10) / 10;
const spread = (xs: number[]) => {
  const s = xs.filter(Number.isFinite);
  return s.length === 0 ? 'n/a' : `${round1(median(s))} (${round1(Math.min(...s))}–${round1(Math.max(...s))})`;
};

/**
 * One round of one ladder. A side's ceiling is its highest rung carried honestly before the first
 * it did not. It climbs on past that rung, because its CPU per message is still measured wherever
 * it delivered everything (a loaded machine makes every side's lag material long before its CPU
 * runs out), and stops at the first rung not delivered in full.
 */
async function climb(rungs: Rung[], round: number, dir: string, log: (m: Measured, r: Rung) => void): Promise<Map<Side, { ceiling: Rung | null; top: boolean }>> {
  const ceilings = new Map<Side, { ceiling: Rung | null; top: boolean }>(SIDES.map((s) => [s, { ceiling: null, top: false }]));
  const missedOnce = new Set<Side>();
  const stopped = new Set<Side>();
  for (const rung of rungs) {
    // Rotate the order by round so that no side always runs first (or right after another).
    const order = [...SIDES.slice((round - 1) % 3), ...SIDES.slice(0, (round - 1) % 3)];
    for (const side of order) {
      if (stopped.has(side)) continue;
      const m = await measure(side, rung, dir);
      log(m, rung);
      if (!m.honest) missedOnce.add(side);
      else if (!missedOnce.has(side)) ceilings.set(side, { ceiling: rung, top: rung === rungs.at(-1) });
      if (m.deliveries < m.expected) stopped.add(side);
    }
    if (stopped.size === SIDES.length) break;
  }
  return ceilings;
}

/**
 * Least squares of CPU after the play sample against deliveries after it, over runs of one side:
 * the slope is the marginal CPU per delivered-and-checked message (µs), the intercept what a run
 * costs after play whatever its traffic (ms: teardown, reports, the merge).
 */
function marginal(runs: readonly Measured[]): { usPerDelivery: number; fixedMs: number } | null {
  const pts = runs.filter((r) => r.windowDeliveries > 0 && Number.isFinite(r.windowCpuMs));
  if (new Set(pts.map((p) => p.windowDeliveries)).size < 2) return null;
  const mx = pts.reduce((n, p) => n + p.windowDeliveries, 0) / pts.length;
  const my = pts.reduce((n, p) => n + p.windowCpuMs, 0) / pts.length;
  let sxy = 0;
  let sxx = 0;
  for (const p of pts) {
    sxy += (p.windowDeliveries - mx) * (p.windowCpuMs - my);
    sxx += (p.windowDeliveries - mx) ** 2;
  }
  const slope = sxy / sxx; // ms per delivery
  return { usPerDelivery: round1(slope * 1000), fixedMs: Math.round(my - slope * mx) };
}

async function parent(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const rounds = numericArg('rounds', quick ? 1 : 3);
  const seconds = numericArg('seconds', quick ? 5 : 10);
  const connections = numericArg('connections', quick ? 300 : 500);
  const latencyMs = numericArg('latency', 100);
  const rates = listArg('rates', quick ? [250, 500, 1000] : [250, 500, 1000, 1500, 2000, 3000]);
  const deviceRungs = listArg('devices', quick ? [1000] : [2000, 5000, 9000]);
  const deviceRate = numericArg('device-rate', 200);
  if (!Number.isInteger(rounds) || rounds < 1 || !(seconds > 0) || !(connections > 40) || !(latencyMs >= 0) || !(deviceRate > 0)) {
    throw new Error('--rounds takes a whole number ≥ 1, --seconds and --device-rate positive numbers, --connections more than 40, --latency ms ≥ 0');
  }
  const started = new Date().toISOString();
  console.log(`workers-capacity: ${started}, ${rounds} round(s), latency toxic ${latencyMs} ms, ${seconds} s per run`);
  console.log(`  rate ladder: ${connections} devices, offered ${rates.join(', ')} msg/s; device ladder: ${deviceRungs.join(', ')} devices at ${deviceRate} msg/s`);
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}, load average at start ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const dir = mkdtempSync(join(tmpdir(), 'chatstorm-capacity-'));
  const rows: (Measured & { round: number; ladder: string })[] = [];
  const ceilings: { ladder: Rung['kind']; round: number; side: Side; ceiling: Rung | null; top: boolean }[] = [];
  const loads: number[] = [];
  try {
    const rateRungs = rates.map((r) => makeRung('rate', r, connections, seconds, latencyMs, dir));
    const devRungs = deviceRungs.map((d) => makeRung('devices', deviceRate, d, seconds, latencyMs, dir));
    const log = (m: Measured, r: Rung, round: number) => {
      loads.push(loadavg()[0]!);
      rows.push({ round, ladder: r.kind, ...m });
      console.log(
        `round ${round} ${r.kind} ${r.kind === 'rate' ? `${m.offeredPerS} deliveries/s` : `${m.devices} devices`} ${m.side}: ${m.honest ? 'carried' : 'NOT carried'} ` +
          `(${m.why}); delivery p50/p99 ${m.deliveryP50Ms}/${m.deliveryP99Ms} ms, own lag p99 ${m.lagP99Ms} ms; µs per delivery: harness ${m.harnessUs}, server ${m.serverUs}, proxy ${m.proxyUs}; ` +
          `RSS ${m.rssMB} MB; load ${loadavg()[0]!.toFixed(2)}`,
      );
    };
    for (let round = 1; round <= rounds; round++) {
      for (const [ladder, rungs] of [['rate', rateRungs], ['devices', devRungs]] as const) {
        const c = await climb(rungs, round, dir, (m, r) => log(m, r, round));
        for (const [side, v] of c) ceilings.push({ ladder, round, side, ...v });
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  report(rows, ceilings, loads, rounds);
}

function report(
  rows: (Measured & { round: number; ladder: string })[],
  ceilings: { ladder: Rung['kind']; round: number; side: Side; ceiling: Rung | null; top: boolean }[],
  loads: number[],
  rounds: number,
): void {
  console.table(rows.map((r) => ({
    round: r.round, ladder: r.ladder, side: r.side, devices: r.devices, 'deliv/s': r.offeredPerS, carried: r.honest,
    'p50/p99 ms': `${r.deliveryP50Ms}/${r.deliveryP99Ms}`, 'lag p99': r.lagP99Ms, 'harness µs': r.harnessUs, 'server µs': r.serverUs, 'proxy µs': r.proxyUs, 'fixed ms': r.fixedMs, 'RSS MB': r.rssMB,
  })));
  const label = (c: { ceiling: Rung | null; top: boolean }, k: 'rate' | 'devices') => {
    if (!c.ceiling) return 'none';
    const v = k === 'rate' ? Math.round(expectedDeliveries(c.ceiling.plan) / (c.ceiling.plan.sendWindowMs / 1000)) : c.ceiling.devices;
    return `${c.top ? '≥ ' : ''}${v}`;
  };
  const ceilingValue = (ladder: Rung['kind'], side: Side) =>
    ceilings.filter((c) => c.ladder === ladder && c.side === side).map((c) => (c.ceiling ? (ladder === 'rate' ? Math.round(expectedDeliveries(c.ceiling.plan) / (c.ceiling.plan.sendWindowMs / 1000)) : c.ceiling.devices) : 0));
  for (const ladder of ['rate', 'devices'] as const) {
    console.log(`honest ceiling (${ladder === 'rate' ? 'checked deliveries per second' : 'concurrent devices'}), by round:`);
    for (const side of SIDES) console.log(`  ${side.padEnd(4)}: ${ceilings.filter((c) => c.ladder === ladder && c.side === side).map((c) => label(c, ladder)).join(', ')}   median ${median(ceilingValue(ladder, side))}`);
  }
  // CPU per delivered-and-checked message: the runs of one round and rung in which both worker
  // counts delivered and judged every message (honest or not: the CPU is spent either way).
  const complete = (r: Measured) => r.deliveries === r.expected && Number.isFinite(r.harnessUs);
  const pairs = rows.filter((r) => r.side === 'w1' && complete(r)).flatMap((a) => {
    const b = rows.find((r) => r.side === 'w2' && complete(r) && r.round === a.round && r.ladder === a.ladder && r.devices === a.devices && r.offeredPerS === a.offeredPerS);
    return b ? [{ a, b }] : [];
  });
  const ratios = pairs.map(({ a, b }) => b.harnessUs / a.harnessUs);
  console.log(
    `harness CPU per delivered-and-checked message (${pairs.length} paired runs, every message delivered and judged): 1 worker ${spread(pairs.map((p) => p.a.harnessUs))} µs, ` +
      `2 workers ${spread(pairs.map((p) => p.b.harnessUs))} µs; ratio 2/1 ${spread(ratios.map((r) => r * 100))} % ` +
      `(target ≤ 110 %, the split adding no per-message cost: ${median(ratios) <= 1.1 ? 'MET' : 'NOT MET'})`,
  );
  // The same, marginal: the slope through each round's rate-ladder runs of one side (fixed costs cancel).
  const slopes = (side: Side) => [...new Set(rows.map((r) => r.round))].map((round) => marginal(rows.filter((r) => r.round === round && r.ladder === 'rate' && r.side === side && complete(r))));
  const m1 = slopes('w1');
  const m2 = slopes('w2');
  const mRatios = m1.flatMap((a, k) => (a && m2[k] ? [m2[k]!.usPerDelivery / a.usPerDelivery] : []));
  console.log(
    `marginal harness CPU per delivered-and-checked message (slope over each round's rate ladder): 1 worker ${spread(m1.map((m) => m?.usPerDelivery ?? NaN))} µs ` +
      `+ ${spread(m1.map((m) => m?.fixedMs ?? NaN))} ms per run after play; 2 workers ${spread(m2.map((m) => m?.usPerDelivery ?? NaN))} µs + ${spread(m2.map((m) => m?.fixedMs ?? NaN))} ms; ` +
      `bare ${spread(slopes('bare').map((m) => m?.usPerDelivery ?? NaN))} µs; ratio 2/1 ${spread(mRatios.map((r) => r * 100))} % (target ≤ 110 %, the split adding no per-message cost: ${mRatios.length > 0 && median(mRatios) <= 1.1 ? 'MET' : 'NOT MET'})`,
  );
  const bareRows = rows.filter((r) => r.side === 'bare' && r.honest);
  console.log(`bare ws client per delivery: ${spread(bareRows.map((r) => r.harnessUs))} µs; harness (1 worker) / bare, same round and rung: ${spread(
    rows.filter((r) => r.side === 'w1' && r.honest).flatMap((a) => {
      const b = bareRows.find((r) => r.round === a.round && r.ladder === a.ladder && r.devices === a.devices && r.offeredPerS === a.offeredPerS);
      return b ? [a.harnessUs / b.harnessUs] : [];
    }),
  )}`);
  // The second core: what the server (and the proxies) take of it at 1 worker's ceiling.
  const c1 = ceilingValue('rate', 'w1');
  const c2 = ceilingValue('rate', 'w2');
  const gains = c1.map((x, k) => (x > 0 ? c2[k]! / x - 1 : NaN));
  const atCeiling1 = ceilings
    .filter((c) => c.ladder === 'rate' && c.side === 'w1' && c.ceiling)
    .flatMap((c) => rows.filter((r) => r.round === c.round && r.ladder === 'rate' && r.side === 'w1' && r.honest && r.devices === c.ceiling!.devices && r.offeredPerS === Math.round(expectedDeliveries(c.ceiling!.plan) / (c.ceiling!.plan.sendWindowMs / 1000))));
  const serverShare = atCeiling1.map((r) => (r.serverUs * r.offeredPerS) / 1e6);
  const proxyShare = atCeiling1.map((r) => (r.proxyUs * r.offeredPerS) / 1e6);
  const free = 1 - median(serverShare);
  console.log(
    `server CPU at 1 worker's ceiling: ${spread(serverShare.map((s) => s * 100))} % of a core (the embedded proxy: ${spread(proxyShare.map((s) => s * 100))} %); ` +
      `the second core left free by the server: ${round1(free * 100)} %`,
  );
  console.log(
    `ceiling(2)/ceiling(1) by round: ${c1.map((x, k) => (x > 0 ? (c2[k]! / x).toFixed(2) : 'n/a')).join(', ')}; gain ${spread(gains.map((g) => g * 100))} %; ` +
      `target gain ≥ 80 % of the free CPU = ${round1(80 * free)} %: ${median(gains) >= 0.8 * free ? 'MET' : 'NOT MET'}` +
      (ceilings.some((c) => c.ladder === 'rate' && c.side !== 'bare' && c.top) ? ' (a side carried the top rung: its ceiling is a lower bound; add higher --rates)' : ''),
  );
  // Memory per device: a line through the device ladder's rungs (RSS at play) per side.
  for (const side of SIDES) {
    const pts = rows.filter((r) => r.ladder === 'devices' && r.side === side && Number.isFinite(r.rssMB) && r.rssMB > 0);
    const ds = [...new Set(pts.map((p) => p.devices))].sort((a, b) => a - b);
    if (ds.length < 2) {
      console.log(`memory ${side}: ${pts.map((p) => `${p.rssMB} MB at ${p.devices} devices`).join(', ') || 'n/a'}`);
      continue;
    }
    const lo = ds[0]!;
    const hi = ds.at(-1)!;
    const rss = (d: number) => median(pts.filter((p) => p.devices === d).map((p) => p.rssMB));
    const server = (d: number) => median(pts.filter((p) => p.devices === d).map((p) => p.serverRssMB));
    const perDeviceKB = ((rss(hi) - rss(lo)) * 1024) / (hi - lo);
    console.log(
      `memory ${side}: ${round1(rss(lo))} MB at ${lo} devices, ${round1(rss(hi))} MB at ${hi}: ${round1(perDeviceKB)} KB per device, ` +
        `${round1(rss(lo) - (perDeviceKB * lo) / 1024)} MB fixed; server ${round1(((server(hi) - server(lo)) * 1024) / (hi - lo))} KB per device`,
    );
  }
  console.log(`load average (1 min) during the runs: ${spread(loads)}; now ${loadavg().map((l) => l.toFixed(2)).join(' ')}; ${rounds} round(s)`);
}

if (process.argv.includes('--child')) {
  const job = JSON.parse(readFileSync(process.argv[process.argv.indexOf('--child') + 1]!, 'utf8')) as Job;
  const plan = JSON.parse(readFileSync(job.planFile, 'utf8')) as Plan;
  const m = job.side === 'bare' ? await bareSide(job, plan) : await workersSide(job, plan);
  process.stdout.write(`\n${JSON.stringify(m)}`);
  process.exit(0);
} else {
  await parent();
}
