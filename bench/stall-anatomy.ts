/**
 * What the harness's stalls are made of: its own work, or waiting for a CPU that other processes
 * on the machine hold (docs/performance.md, "What the harness's stalls are made of").
 *
 *   node --import tsx bench/stall-anatomy.ts [--rate 10000] [--seconds 10] [--connections 500] [--latency 100] [--runs 4]
 *
 * Each run: `runScenario` (what `chatstorm run` does, embedded proxy included) with the rate shape
 * of the capacity benches against a fresh reference server (memory store, no rate limit) in a
 * child process. In this process, every 5 ms, the main thread's schedstat (src/run/cpu-wait.ts):
 * a sample whose wall time stretched past 12 ms during play is a stall, printed as its time on a
 * CPU and its time runnable but waiting. Printed per run: exit code, harness lag p99, sender lag
 * p99 / p99.9 / max, the run's own `harness.lag.cpu` (wall, on a CPU, waited), and the stalls.
 * Add `--trace-gc` to the node flags to see the collections beside them.
 * Bounded: finite plans, one server per run, every run has its grace period.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { numericArg } from './measure-child.ts';
import { rateScenario } from './lib/rate-scenario.ts';
import { startChild } from '../src/net/child.ts';
import { runScenario } from '../src/cli/run-command.ts';
import { mainThreadCpu, type ThreadCpuTimes } from '../src/run/cpu-wait.ts';

const rate = numericArg('rate', 10_000);
const seconds = numericArg('seconds', 10);
const connections = numericArg('connections', 500);
const latencyMs = numericArg('latency', 100);
const runs = numericArg('runs', 4);
if (!(rate > 0) || !(seconds > 0) || !(connections > 20) || !Number.isInteger(runs) || runs < 1) {
  throw new Error('--rate and --seconds take positive numbers, --connections more than 20, --runs a whole number ≥ 1');
}
if (mainThreadCpu() === null) throw new Error('this bench reads Linux schedstat (/proc/<pid>/task/<tid>/schedstat), which is not readable here');

const STALL_MS = 12;
console.log(`stall-anatomy: ${rate} msg/s for ${seconds} s, ${connections} connections, latency toxic ${latencyMs} ms, ${runs} run(s); load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
for (let run = 1; run <= runs; run++) {
  const server = await startChild(['serve', '--port', '0', '--store', 'memory', '--rate-limit', '0'], /listening on (ws:\/\/\S+)/, 'reference server');
  const out = mkdtempSync(join(tmpdir(), 'chatstorm-stalls-'));
  let playAt = 0;
  let prev: { atMs: number; cpu: ThreadCpuTimes } = { atMs: performance.now(), cpu: mainThreadCpu()! };
  const stalls: string[] = [];
  const sampler = setInterval(() => {
    const now = { atMs: performance.now(), cpu: mainThreadCpu()! };
    const wallMs = now.atMs - prev.atMs;
    if (playAt > 0 && wallMs > STALL_MS) {
      const onCpu = now.cpu.onCpuMs - prev.cpu.onCpuMs;
      const waited = now.cpu.waitedMs - prev.cpu.waitedMs;
      stalls.push(`    at ${(prev.atMs - playAt).toFixed(0)} ms of play: ${wallMs.toFixed(1)} ms, on a CPU ${onCpu.toFixed(1)}, waiting for one ${waited.toFixed(1)}`);
    }
    prev = now;
  }, 5);
  try {
    const r = await runScenario({
      scenario: rateScenario(rate, seconds, connections, latencyMs, 'stalls'),
      target: server.url,
      out,
      beforePlay: async () => void (playAt = performance.now()),
    });
    clearInterval(sampler);
    const lag = r.summary.harness?.lag;
    const s = lag?.senderLag;
    const cpu = lag?.cpu;
    console.log(
      `run ${run}: exit ${r.exitCode}, harness lag p99 ${r.summary.harnessLag?.p99Ms ?? '–'} ms; sender lag p99 ${s?.p99Ms} / p99.9 ${s?.p999Ms} / max ${s?.maxMs} ms; ` +
        (cpu ? `main thread over play and drain: ${cpu.wallMs} ms, on a CPU ${cpu.onCpuMs}, waited ${cpu.waitedMs} (${((100 * cpu.waitedMs) / cpu.wallMs).toFixed(1)} %)` : 'no CPU figures'),
    );
    // Stalls during play and drain only (teardown and judging after the run are not timed).
    const endMs = cpu?.wallMs ?? Infinity;
    for (const line of stalls.filter((l) => Number(/at (\d+) ms/.exec(l)?.[1]) < endMs)) console.log(line);
  } finally {
    clearInterval(sampler);
    await server.stop();
    rmSync(out, { recursive: true, force: true });
  }
}
process.exit(0);
