/**
 * `chatstorm run ... --workers N`: the plan's shards as N processes of chatstorm itself on this
 * machine, one merged progress line, one merged report.
 *
 *   parent: validate + plan (exit 2 before anything starts) -> N = min(asked, what the plan splits into)
 *           -> reference server (unless --target) -> one embedded Toxiproxy per worker (unless a URL)
 *           -> fork N x `run --shard i/N` --{ready} x N--> {play} to all: one fault timeline
 *           -> progress merged once a second
 *           -> a worker that fails: the others stop (SIGTERM: they tear down and report)
 *           -> its leftover proxies removed, children stopped -> merge -> one verdict, one exit code
 *
 * Each worker drives its own proxies (one per network) through the same fault timeline, started
 * at the same moment by the barrier; docs/distributed.md says why rather than one shared proxy.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Toxiproxy } from 'toxiproxy-node-client';
import { HarnessError, UsageError } from '../errors.ts';
import { prepare, runScenario, type RunScenarioOptions, type RunScenarioResult } from '../cli/run-command.ts';
import { shardLayout } from '../plan/shard.ts';
import { makeRunId, type Progress } from '../run/runner.ts';
import type { LiveProgress } from '../report/progress.ts';
import { parseProxyName, safeRunId } from '../net/proxy-name.ts';
import { startChild, type ChildService } from '../net/child.ts';
import { openToxiproxy } from '../net/toxiproxy.ts';
import { mergeShards } from '../merge/merge-shards.ts';
import { SHARD_FILES } from '../merge/shard-files.ts';
import { existsSync } from 'node:fs';
import { WORKER_ENV, type ParentMessage, type WorkerMessage } from './worker-link.ts';

const BIN = fileURLToPath(new URL('../../bin/chatstorm.js', import.meta.url));
/** Lines of a failed worker's stderr kept in the report. */
const STDERR_LINES = 20;

export interface RunWorkersOptions extends RunScenarioOptions {
  /** Worker processes, or `auto`: the cores of this machine. Capped by what the plan splits into. */
  workers: number | 'auto';
}

interface Worker {
  index: number;
  child: ChildProcess;
  stderr: string;
  ready: boolean;
  progress: LiveProgress | null;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Run the plan's shards in worker processes and merge them; the result is a run's result. */
export async function runWorkers(o: RunWorkersOptions): Promise<RunScenarioResult> {
  // Each worker writes its own shard; these act on the merged run, which only `check` sees whole.
  if (o.workers !== 1 && o.baseline !== undefined) throw new UsageError(`--baseline with --workers: compare the merged run afterwards, \`chatstorm check <merged run dir> --baseline ${o.baseline}\``);
  if (o.workers !== 1 && o.metricsPort !== undefined) throw new UsageError('--metrics-port with --workers is not supported: each worker is its own process; drop --metrics-port or run without --workers');
  const { plan, notes } = await prepare(o);
  const asked = o.workers === 'auto' ? availableParallelism() : o.workers;
  const layout = shardLayout(plan);
  const n = Math.min(asked, layout.maxShards);
  if (n < asked) notes.push(`--workers ${o.workers}: the plan splits into at most ${layout.maxShards} shard(s) (${layout.limit}); running ${n}`);
  if (n <= 1) {
    const r = await runScenario(o);
    return { ...r, notes: [...notes, ...r.notes] };
  }
  if (typeof o.scenario !== 'string') throw new UsageError('--workers needs the scenario as a file path: each worker loads it');
  if (o.driver !== undefined && typeof o.driver !== 'string') throw new UsageError('--workers needs the driver as a built-in name or a module path: each worker loads it');
  if (o.quick !== undefined && typeof o.quick !== 'boolean') throw new UsageError('--workers takes quick mode as a flag (--quick): each worker reads the scenario file\'s own quick export');
  const runId = o.runId ?? makeRunId(plan.scenario);
  const out = resolve(o.out ?? 'reports');

  const children: ChildService[] = [];
  const workers: Worker[] = [];
  const failures = new Map<number, string>();
  let external: Toxiproxy | null = null;
  let progressTimer: NodeJS.Timeout | null = null;
  let parentError: string | null = null;
  const stopAll = (why: string) => {
    for (const w of workers) {
      if (w.child.exitCode === null && w.child.signalCode === null) {
        if (!failures.has(w.index)) failures.set(w.index, `stopped: ${why}`);
        w.child.kill('SIGTERM');
      }
    }
  };
  const onAbort = () => stopAll('interrupted');
  try {
    let target = o.target;
    if (target === undefined) {
      const server = await startChild(
        ['serve', '--port', '0', ...(o.defects ?? []).flatMap((d) => ['--defect', d]), ...(o.defectRate === undefined ? [] : ['--defect-rate', String(o.defectRate)])],
        /listening on (ws:\/\/\S+)/,
        'reference chat server',
      );
      children.push(server);
      target = server.url;
    }
    // A Toxiproxy URL (given or from TOXIPROXY_URL) is shared; otherwise each worker gets an
    // embedded one of its own, owned here so that it goes away even when its worker is killed.
    const wantsExternal = o.toxiproxy === undefined ? Boolean(process.env.TOXIPROXY_URL) : o.toxiproxy !== 'embedded';
    let shared = wantsExternal ? await openToxiproxy(o.toxiproxy) : null;
    if (shared && shared.kind !== 'external') {
      // TOXIPROXY_URL did not answer (openToxiproxy said so): embedded ones per worker instead.
      await shared.stop();
      shared = null;
    }
    if (shared) external = shared.client;
    const proxies: string[] = [];
    for (let i = 0; i < n; i++) {
      if (shared) proxies.push(shared.url);
      else {
        const p = await startChild(['proxy', '--port', '0'], /listening on (http:\/\/\S+)/, 'embedded Toxiproxy');
        children.push(p);
        proxies.push(p.url);
      }
    }

    const args = (i: number): string[] => workerArgs(o, { index: i, count: n, runId, out, target: target as string, toxiproxy: proxies[i - 1] as string });
    let readyCount = 0;
    for (let i = 1; i <= n; i++) {
      // Own process group: Ctrl-C reaches the parent only, which stops each worker once (a
      // worker that got the terminal's SIGINT and then the parent's SIGTERM would quit at once,
      // without its report). Runs are bounded, so a worker outlives a killed parent only briefly.
      const child = fork(BIN, args(i), { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], execArgv: [], detached: true, env: { ...process.env, [WORKER_ENV]: '1' } });
      const w: Worker = {
        index: i,
        child,
        stderr: '',
        ready: false,
        progress: null,
        exit: new Promise((r) => child.once('exit', (code, signal) => r({ code, signal }))),
      };
      workers.push(w);
      child.stdout?.resume();
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
        w.stderr = (w.stderr + chunk).slice(-16_384);
      });
      child.on('message', (m: WorkerMessage) => {
        if (m.type === 'progress') w.progress = m.progress;
        else if (m.type === 'ready' && !w.ready) {
          w.ready = true;
          // Every shard is live: play them all at once, so each network's faults land together.
          if (++readyCount === n) for (const x of workers) if (x.child.connected) x.child.send({ type: 'play' } satisfies ParentMessage);
        }
      });
      void w.exit.then(({ code, signal }) => {
        if (code === 0 || code === 1) return;
        if (!failures.has(i)) failures.set(i, `worker ${i}/${n} exited with ${signal ?? `code ${code}`}${tail(w.stderr)}`);
        stopAll(`shard ${i}/${n} failed`);
      });
    }
    if (o.signal?.aborted) onAbort();
    else o.signal?.addEventListener('abort', onAbort, { once: true });
    if (o.onProgress) {
      const onProgress = o.onProgress;
      progressTimer = setInterval(() => {
        const ps = workers.flatMap((w) => (w.progress ? [w.progress] : []));
        if (ps.length > 0) onProgress(mergeProgress(ps));
      }, 1000);
      progressTimer.unref();
    }
    await Promise.all(workers.map((w) => w.exit));
  } catch (err) {
    stopAll('the parent failed');
    await Promise.all(workers.map((w) => w.exit));
    if (workers.length === 0) throw err;
    parentError = `chatstorm --workers failed: ${err instanceof Error ? err.message : String(err)}`;
  } finally {
    if (progressTimer) clearInterval(progressTimer);
    o.signal?.removeEventListener('abort', onAbort);
    if (external) await removeLeftovers(external, runId, [...failures.keys()], n);
    await Promise.all(children.map((c) => c.stop()));
  }

  const dirs = workers.map((w) => join(out, `${runId}-s${w.index}of${n}`));
  const present = dirs.filter((d) => existsSync(join(d, SHARD_FILES.manifest)));
  if (present.length === 0) {
    throw new HarnessError(`no worker started its run:\n${[...failures.values()].join('\n')}`);
  }
  const merged = await mergeShards({ dirs: present, out: join(out, runId), runId, failures, errors: parentError ? [parentError] : [] });
  return { summary: merged.summary, dir: merged.dir, exitCode: merged.exitCode, notes };
}

/** Where one worker runs: its shard, the shared run id and folder, the target and its proxy. */
export interface WorkerPlace {
  index: number;
  count: number;
  runId: string;
  out: string;
  target: string;
  toxiproxy: string;
}

/** The `chatstorm run` arguments of one worker: its shard and every run option the user gave. */
export function workerArgs(o: RunWorkersOptions, w: WorkerPlace): string[] {
  return [
    'run',
    o.scenario as string,
    '--shard', `${w.index}/${w.count}`,
    '--run-id', w.runId,
    '--out', w.out,
    '--target', w.target,
    '--toxiproxy', w.toxiproxy,
    ...(o.seed === undefined ? [] : ['--seed', String(o.seed)]),
    ...(o.durationMs === undefined ? [] : ['--duration', `${o.durationMs}ms`]),
    ...(o.maxSenderLagMs === undefined ? [] : ['--max-lag', `${o.maxSenderLagMs}ms`]),
    ...(o.sla ?? []).flatMap((s) => ['--sla', s]),
    // Everything else a worker's own run needs, as the user gave it (a dropped flag ran every
    // worker full length, on the reference driver, or ended it exit 3 on allowed harness lag).
    ...(o.quick === true ? ['--quick'] : []),
    ...(typeof o.driver === 'string' ? ['--driver', o.driver] : []),
    ...Object.entries(o.driverOptions ?? {}).flatMap(([k, v]) => ['--driver-option', `${k}=${v}`]),
    ...(o.httpTarget === undefined ? [] : ['--http-target', o.httpTarget]),
    ...(o.ca === undefined ? [] : ['--ca', o.ca]),
    ...(o.insecure ? ['--insecure'] : []),
    ...(o.allowHarnessLag ? ['--allow-harness-lag'] : []),
    ...(o.judge === undefined ? [] : ['--judge', o.judge]),
  ];
}

/** One progress line for all workers: counts summed, the slowest phase, the longest clock. */
export function mergeProgress(ps: readonly LiveProgress[]): LiveProgress {
  const order: Progress['phase'][] = ['connect', 'play', 'drain'];
  // Every worker runs with the same --judge: null (judged after the run) from all of them.
  const judgedLive = ps.some((p) => p.anomalies !== null);
  const anomalies: Record<string, number> = {};
  for (const p of ps) for (const [k, n] of Object.entries(p.anomalies ?? {})) anomalies[k] = (anomalies[k] ?? 0) + n;
  const p99s = ps.flatMap((p) => (p.deliveryP99Ms === null || p.deliveryP99Ms === undefined ? [] : [p.deliveryP99Ms]));
  const totals = ps.map((p) => p.totalMs);
  return {
    elapsedMs: Math.max(...ps.map((p) => p.elapsedMs)),
    sent: sum(ps, 'sent'),
    acked: sum(ps, 'acked'),
    delivered: sum(ps, 'delivered'),
    live: sum(ps, 'live'),
    devices: sum(ps, 'devices'),
    phase: order[Math.min(...ps.map((p) => order.indexOf(p.phase)))] as Progress['phase'],
    totalMs: totals.some((t) => t === null || t === undefined) ? null : Math.max(...(totals as number[])),
    sentPerS: sum(ps, 'sentPerS'),
    deliveredPerS: sum(ps, 'deliveredPerS'),
    inFlight: sum(ps, 'inFlight'),
    // A live line only: the worst shard's p99 bounds the merged one from above (the report merges
    // the histograms themselves).
    deliveryP99Ms: p99s.length > 0 ? Math.max(...p99s) : null,
    anomalies: judgedLive ? anomalies : null,
    // One fault timeline played by every shard at once.
    activeFaults: Math.max(...ps.map((p) => p.activeFaults ?? 0)),
  };
}

function sum(ps: readonly LiveProgress[], k: 'sent' | 'acked' | 'delivered' | 'live' | 'devices' | 'sentPerS' | 'deliveredPerS' | 'inFlight'): number {
  return ps.reduce((n, p) => n + (p[k] ?? 0), 0);
}

function tail(stderr: string): string {
  const lines = stderr.trimEnd().split('\n').slice(-STDERR_LINES).join('\n');
  return lines ? `; its stderr:\n${lines}` : ' (nothing on stderr)';
}

/** Proxies a killed worker could not remove from a shared Toxiproxy (its shard's run id, whatever its pid). */
async function removeLeftovers(client: Toxiproxy, runId: string, failed: number[], n: number): Promise<void> {
  if (failed.length === 0) return;
  try {
    const all = await client.getAll();
    // Shard runs are named `<run id>-s<i>of<n>`; a proxy name carries it after its owner (proxy-name.ts).
    const runs = failed.map((i) => safeRunId(`${runId}-s${i}of${n}`));
    for (const [name, proxy] of Object.entries(all)) {
      const owned = parseProxyName(name);
      if (owned && runs.some((r) => owned.run.startsWith(`${r}~`) || owned.run === `${r}-preflight`)) await proxy.remove().catch(() => {});
    }
  } catch {
    // Best effort: the report names the failed shard; its proxies carry the run id.
  }
}
