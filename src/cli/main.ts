/**
 * The `chatstorm` command line. yargs maps argv onto the same options objects the library takes;
 * validation happens where options enter (scenario schema, SLA parser), once.
 *
 * Exit codes: 0 pass, 1 a check or SLA failed, 2 bad usage or scenario, 3 infrastructure or
 * harness failure.
 */
import yargs from 'yargs';
import { ChatstormError, ExitCode, HarnessError, UsageError, exitCodeFor } from '../errors.ts';
import { parseDuration } from '../scenario/duration.ts';
import { renderConsole } from '../report/text.ts';
import { progressPrinter, type LiveProgress } from '../report/progress.ts';
import { parseRegression } from '../report/baseline.ts';

import { DEFECT_NAMES } from '../server/options.ts';

const DEFECTS = [...DEFECT_NAMES];

/** Parse an optional duration flag that must be above zero. */
function positiveDuration(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const d = parseDuration(value);
  if (!d.ok) throw new UsageError(`${flag}: ${d.message}`);
  if (d.ms <= 0) throw new UsageError(`${flag} must be above zero, got ${JSON.stringify(value)}`);
  return d.ms;
}

/**
 * Run a scenario or a replay with Ctrl-C handling: the first SIGINT/SIGTERM ends the run cleanly
 * (proxies removed, report written), a second quits at once; a crash in a callback ends the run
 * like Ctrl-C, with the crash as its infrastructure error. Prints notes and the result.
 */
async function runInterruptibly(
  quiet: boolean,
  start: (signal: AbortSignal, onProgress: ((p: LiveProgress) => void) | undefined) => Promise<import('./run-command.ts').RunScenarioResult>,
): Promise<number> {
  const { describeResult } = await import('./run-command.ts');
  const ac = new AbortController();
  let interrupts = 0;
  const onSignal = () => {
    if (++interrupts > 1) {
      process.stderr.write(
        'chatstorm: quitting at once; on an external Toxiproxy, this run\'s proxies may remain (remove them with `chatstorm cleanup --toxiproxy <url>`)\n',
      );
      process.exit(130);
    }
    process.stderr.write('\nchatstorm: stopping — removing toxics and proxies, writing the report (Ctrl-C again to quit at once)\n');
    ac.abort();
  };
  const onCrash = (err: unknown) => {
    const msg = err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(`chatstorm: internal error, ending the run: ${msg}\n`);
    if (!ac.signal.aborted) ac.abort(new HarnessError(`harness crash: ${err instanceof Error ? err.message : String(err)}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  const progress = quiet ? null : progressPrinter();
  try {
    const r = await start(ac.signal, progress?.onProgress);
    progress?.done();
    for (const n of r.notes) process.stderr.write(`chatstorm: note: ${n}\n`);
    process.stdout.write(describeResult(r) + '\n');
    return r.exitCode;
  } finally {
    progress?.done();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
  }
}

/** `--workers`: a count of at least 1, or `auto`. */
function parseWorkers(text: string): number | 'auto' {
  if (text === 'auto') return 'auto';
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--workers expects a whole number of at least 1, or "auto", got ${JSON.stringify(text)}`);
  return n;
}

/** Parse an optional `--max-regression` percentage (exit 2 naming the flag when malformed). */
function regression(value: string | undefined): number | undefined {
  return value === undefined ? undefined : parseRegression('--max-regression', value);
}

/** Run the CLI; resolves with the exit code (never calls process.exit itself). */
export async function main(argv: string[]): Promise<number> {
  let code: number = ExitCode.pass;
  const cli = yargs(argv)
    .scriptName('chatstorm')
    .usage('$0 <command> [options]')
    .strict()
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new UsageError(msg);
    })
    .command(
      'run <scenario>',
      'run a scenario file and judge the chat server',
      (y) =>
        y
          .positional('scenario', { type: 'string', demandOption: true, describe: 'scenario file, e.g. scenarios/demo.ts' })
          .option('target', { type: 'string', describe: 'chat server ws:// or wss:// URL, path and query kept (default: start the built-in reference server)' })
          .option('http-target', { type: 'string', describe: 'HTTP(S) base URL of the server\'s API for drivers that call one (default: the target\'s origin)' })
          .option('ca', { type: 'string', describe: 'PEM file of a CA or self-signed certificate to trust for a wss:// target' })
          .option('insecure', { type: 'boolean', describe: 'do not verify the wss:// target\'s certificate (self-signed staging servers)' })
          .option('driver', { type: 'string', describe: 'driver: a built-in name (reference, xmpp) or a module path such as ./my-driver.ts (default: the scenario\'s `driver`, else reference)' })
          .option('toxiproxy', { type: 'string', describe: 'Toxiproxy API URL, or "embedded" (default: $TOXIPROXY_URL if it answers, else embedded)' })
          .option('driver-option', { type: 'string', array: true, describe: 'driver option key=value, e.g. mode=naive or domain=example.com for xmpp (repeatable)' })
          .option('seed', { type: 'number', describe: 'override the scenario seed' })
          .option('duration', { type: 'string', describe: 'override the send window, e.g. 10s' })
          .option('quick', { type: 'boolean', default: false, describe: 'shorter and smaller, the same shape: an 8 s send window, fault times and population scaled, rates kept' })
          .option('out', { type: 'string', default: 'reports', describe: 'parent folder of run folders' })
          .option('sla', { type: 'string', array: true, describe: 'SLA expression, e.g. "delivery.p99 < 3s" (repeatable)' })
          .option('defect', { type: 'string', array: true, choices: DEFECTS, describe: 'defect mode of the built-in server (no --target)' })
          .option('defect-rate', { type: 'number', describe: 'share of opportunities where a defect fires (default 0.02)' })
          .option('max-lag', { type: 'string', describe: 'harness sender-lag p99 limit before exit 3 (default 1s)' })
          .option('quiet', { type: 'boolean', default: false, describe: 'no progress line' })
          .option('run-id', { type: 'string', describe: 'name of the run folder (default: <scenario>-<utc time>-<random>)' })
          .option('shard', { type: 'string', describe: 'run shard i of n of the plan, e.g. 2/4 (counting from 1); merge the shards with `chatstorm merge`' })
          .option('workers', { type: 'string', describe: 'shard processes on this machine, merged into one report: a number, or "auto" (the cores, capped by what the plan splits into); default 1' })
          .option('baseline', { type: 'string', describe: 'summary.json of an earlier run: fail when delivery delay or throughput regressed against it' })
          .option('max-regression', { type: 'string', describe: 'allowed regression against --baseline, e.g. 10% (default 10%)' })
          .option('metrics-port', { type: 'number', describe: 'serve live Prometheus metrics on this port during the run (0: any free port)' })
          .option('metrics-host', { type: 'string', describe: 'address of the metrics endpoint (default 127.0.0.1)' })
          .option('allow-harness-lag', {
            type: 'boolean',
            default: false,
            describe: "accept a run whose own lag is a material part of its delays: figures marked as inflated instead of exit 3",
          })
          .option('judge', {
            choices: ['live', 'after'] as const,
            describe:
              'when the checks run: after the run, over its history file (default; the same verdict, far less harness lag at high rates), ' +
              'or live (anomalies on the progress line and in the metrics; the default with --metrics-port)',
          }),
      async (a) => {
        if (a['defect-rate'] !== undefined && !(a['defect-rate'] > 0 && a['defect-rate'] <= 1)) {
          throw new UsageError(`--defect-rate must be in (0, 1], got ${a['defect-rate']}`);
        }
        if (a.target !== undefined && a.defect?.length) throw new UsageError('--defect applies to the built-in server only; drop --target or start `chatstorm serve --defect ...` yourself');
        if (a.seed !== undefined && (!Number.isInteger(a.seed) || a.seed < 0)) throw new UsageError(`--seed must be a non-negative integer, got ${a.seed}`);
        const dur = positiveDuration('--duration', a.duration);
        const lag = positiveDuration('--max-lag', a['max-lag']);
        const maxRegressionPct = regression(a['max-regression']);
        const { parseShardSpec } = await import('../plan/shard.ts');
        const shard = a.shard === undefined ? undefined : parseShardSpec(a.shard);
        if (a['run-id'] !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/.test(a['run-id'])) {
          throw new UsageError(`--run-id expects letters, digits, ".", "-" or "_" (1–100, starting with a letter or digit), got ${JSON.stringify(a['run-id'])}`);
        }
        const { runScenario } = await import('./run-command.ts');
        const workers = a.workers === undefined ? undefined : parseWorkers(a.workers);
        if (workers !== undefined && shard !== undefined) throw new UsageError('--workers and --shard exclude each other: --workers runs every shard itself');
        const { workerLink } = await import('../shard/worker-link.ts');
        const { parseDriverOptions } = await import('../drivers/load.ts');
        code = await runInterruptibly(a.quiet, async (signal, onProgress) => {
          const link = workerLink(signal);
          const run = workers === undefined ? runScenario : (await import('../shard/local-workers.ts')).runWorkers;
          return run({
            workers: workers ?? 1,
            scenario: a.scenario,
            target: a.target,
            httpTarget: a['http-target'],
            ca: a.ca,
            insecure: a.insecure,
            driver: a.driver,
            driverOptions: parseDriverOptions(a['driver-option']),
            toxiproxy: a.toxiproxy,
            seed: a.seed,
            durationMs: dur,
            quick: a.quick,
            out: a.out,
            sla: a.sla,
            defects: a.defect,
            defectRate: a['defect-rate'],
            maxSenderLagMs: lag,
            runId: a['run-id'],
            shard,
            baseline: a.baseline,
            maxRegressionPct,
            metricsPort: a['metrics-port'],
            metricsHost: a['metrics-host'],
            onMetricsListening: (url) => process.stderr.write(`chatstorm: live metrics at ${url}\n`),
            allowHarnessLag: a['allow-harness-lag'],
            judge: a.judge,
            signal,
            onProgress: link?.onProgress ?? onProgress,
            beforePlay: link?.beforePlay,
            onWarning: (w) => process.stderr.write(`chatstorm: warning: ${w}\n`),
          });
        });
      },
    )
    .command(
      'check <dir>',
      're-judge a saved run from its history',
      (y) =>
        y
          .positional('dir', { type: 'string', demandOption: true, describe: 'run folder, e.g. reports/demo-...' })
          .option('sla', { type: 'string', array: true, describe: 'extra or replacing SLA expression' })
          .option('baseline', { type: 'string', describe: 'summary.json of an earlier run to compare with (see run --baseline)' })
          .option('max-regression', { type: 'string', describe: 'allowed regression against --baseline, e.g. 10% (default 10%)' }),
      async (a) => {
        const { checkRun } = await import('./check-command.ts');
        const { describeResult } = await import('./run-command.ts');
        const r = await checkRun(a.dir, a.sla, { baseline: a.baseline, maxRegressionPct: regression(a['max-regression']) });
        for (const n of r.notes) process.stderr.write(`chatstorm: note: ${n}\n`);
        process.stdout.write(describeResult(r) + '\n');
        code = r.exitCode;
      },
    )
    .command(
      'replay <trace>',
      'replay a production trace (docs/traces.md) through the runner, checkers and reports',
      (y) =>
        y
          .positional('trace', { type: 'string', demandOption: true, describe: 'trace file, JSON Lines (.jsonl) or CSV (.csv)' })
          .option('format', { choices: ['jsonl', 'csv'] as const, describe: 'trace format (default: from the file extension)' })
          .option('speed', { type: 'number', default: 1, describe: 'time factor: 2 replays twice as fast' })
          .option('scale', { type: 'number', default: 1, describe: 'volume factor: 1.5 adds half as many conversations of the same shape' })
          .option('scenario', { type: 'string', describe: 'scenario file whose networks, faults, SLAs and grace apply' })
          .option('skip-bad-lines', { type: 'boolean', default: false, describe: 'leave malformed lines out (listed in the run folder) instead of refusing the trace' })
          .option('target', { type: 'string', describe: 'chat server ws://HOST:PORT (default: start the built-in reference server)' })
          .option('toxiproxy', { type: 'string', describe: 'Toxiproxy API URL, or "embedded"' })
          .option('driver', { type: 'string', describe: 'driver: a built-in name (reference) or a module path (as for run)' })
          .option('http-target', { type: 'string', describe: 'HTTP(S) base URL of the server\'s API (as for run)' })
          .option('ca', { type: 'string', describe: 'PEM file to trust for a wss:// target' })
          .option('insecure', { type: 'boolean', describe: 'do not verify the wss:// target\'s certificate' })
          .option('seed', { type: 'number', describe: 'seed of the choices replay makes (--scale, fault targets)' })
          .option('out', { type: 'string', default: 'reports', describe: 'parent folder of run folders' })
          .option('sla', { type: 'string', array: true, describe: 'SLA expression (repeatable)' })
          .option('defect', { type: 'string', array: true, choices: DEFECTS, describe: 'defect mode of the built-in server (no --target)' })
          .option('quiet', { type: 'boolean', default: false, describe: 'no progress line' }),
      async (a) => {
        for (const f of ['speed', 'scale'] as const) {
          if (!(a[f] > 0) || !Number.isFinite(a[f])) throw new UsageError(`--${f} must be a number above 0, got ${a[f]}`);
        }
        if (a.target !== undefined && a.defect?.length) throw new UsageError('--defect applies to the built-in server only; drop --target');
        const { replayTrace } = await import('./replay-command.ts');
        code = await runInterruptibly(a.quiet, (signal, onProgress) =>
          replayTrace({
            trace: a.trace,
            format: a.format,
            speed: a.speed,
            scale: a.scale,
            seed: a.seed,
            scenarioFile: a.scenario,
            skipBadLines: a['skip-bad-lines'],
            target: a.target,
            httpTarget: a['http-target'],
            ca: a.ca,
            insecure: a.insecure,
            driver: a.driver,
            toxiproxy: a.toxiproxy,
            out: a.out,
            sla: a.sla,
            defects: a.defect,
            signal,
            onProgress,
          }),
        );
      },
    )
    .command(
      'capacity <scenario>',
      'find the highest message rate at which a scenario still meets its SLAs (docs/capacity.md)',
      (y) =>
        y
          .positional('scenario', { type: 'string', demandOption: true, describe: 'scenario file, e.g. scenarios/demo.ts' })
          .option('sla', { type: 'string', array: true, describe: 'SLA expression every probe is judged by, e.g. "delivery.p99 < 3s" (repeatable)' })
          .option('start-rate', { type: 'number', describe: 'first and lowest probe, msg/s (default: the scenario\'s own rate)' })
          .option('max-rate', { type: 'number', describe: 'highest rate to probe, msg/s (default: 64 x the start)' })
          .option('budget', { type: 'string', default: '10m', describe: 'time the whole search may take' })
          .option('probe-duration', { type: 'string', default: '10s', describe: 'send window of each probe' })
          .option('probe-grace', { type: 'string', default: '5s', describe: 'longest wait for stragglers after a probe (at most the scenario\'s grace)' })
          .option('resolution', { type: 'string', default: '10%', describe: 'stop bisecting when the bracket is this narrow' })
          .option('target', { type: 'string', describe: 'chat server ws://HOST:PORT (default: a fresh built-in reference server per probe)' })
          .option('toxiproxy', { type: 'string', describe: 'Toxiproxy API URL, or "embedded"' })
          .option('seed', { type: 'number', describe: 'override the scenario seed' })
          .option('out', { type: 'string', default: 'reports', describe: 'parent folder of run folders' })
          .option('run-id', { type: 'string', describe: 'name of the capacity run folder' })
          .option('max-lag', { type: 'string', describe: 'harness sender-lag p99 limit of each probe (default 1s)' })
          .option('allow-harness-lag', { type: 'boolean', default: false, describe: 'judge probes whose own lag is material on their SLAs, figures marked (see run)' })
          .option('quiet', { type: 'boolean', default: false, describe: 'no line per probe' }),
      async (a) => {
        if (a.seed !== undefined && (!Number.isInteger(a.seed) || a.seed < 0)) throw new UsageError(`--seed must be a non-negative integer, got ${a.seed}`);
        if (a['run-id'] !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/.test(a['run-id'])) {
          throw new UsageError(`--run-id expects letters, digits, ".", "-" or "_" (1–100, starting with a letter or digit), got ${JSON.stringify(a['run-id'])}`);
        }
        const { capacityCli } = await import('./capacity-command.ts');
        code = await capacityCli({
          scenario: a.scenario,
          sla: a.sla,
          startRate: a['start-rate'],
          maxRate: a['max-rate'],
          budgetMs: positiveDuration('--budget', a.budget),
          probeDurationMs: positiveDuration('--probe-duration', a['probe-duration']),
          probeGraceMs: positiveDuration('--probe-grace', a['probe-grace']),
          resolution: parseRegression('--resolution', a.resolution) / 100,
          target: a.target,
          toxiproxy: a.toxiproxy,
          seed: a.seed,
          out: a.out,
          runId: a['run-id'],
          maxSenderLagMs: positiveDuration('--max-lag', a['max-lag']),
          allowHarnessLag: a['allow-harness-lag'],
          quiet: a.quiet,
        });
      },
    )
    .command('trace <action>', 'write traces: `trace synth` (a synthetic evening) or `trace from-run <run-dir>`', (y) =>
      y
        .positional('action', { choices: ['synth', 'from-run'] as const, demandOption: true })
        .option('run', { type: 'string', describe: 'run folder (from-run)' })
        .option('out', { type: 'string', describe: 'file to write (default: standard output)' })
        .option('format', { choices: ['jsonl', 'csv'] as const, default: 'jsonl' as const })
        .option('seed', { type: 'number', default: 1 })
        .option('duration', { type: 'string', default: '60s', describe: 'length of a synthetic trace' })
        .option('customers', { type: 'number', default: 100, describe: 'conversations of a synthetic trace' })
        .option('agents', { type: 'number', default: 10 }),
      async (a) => {
        const { synthTrace, traceFromRun, traceToJsonl, traceToCsv } = await import('../trace/index.ts');
        let t;
        if (a.action === 'synth') {
          const durationMs = positiveDuration('--duration', a.duration) as number;
          for (const f of ['customers', 'agents'] as const) {
            if (!Number.isInteger(a[f]) || a[f] < 1) throw new UsageError(`--${f} must be a whole number above 0, got ${a[f]}`);
          }
          t = synthTrace({ seed: a.seed, durationMs, customers: a.customers, agents: a.agents });
        } else {
          if (!a.run) throw new UsageError('trace from-run needs --run <run-dir>, e.g. --run reports/demo-...');
          t = await traceFromRun(a.run);
        }
        const text = a.format === 'csv' ? traceToCsv(t.records) : traceToJsonl(t.header, t.records);
        if (a.out) {
          const { writeFile } = await import('node:fs/promises');
          await writeFile(a.out, text);
          process.stderr.write(`chatstorm: wrote ${t.records.length} records to ${a.out}\n`);
        } else process.stdout.write(text);
      },
    )
    .command(
      'merge <dirs..>',
      'merge the shard folders of one run into one report and one verdict',
      (y) =>
        y
          .positional('dirs', { type: 'string', array: true, demandOption: true, describe: 'shard folders, or a folder holding them' })
          .option('out', { type: 'string', describe: 'folder of the merged report (default: <run id>-merged beside the first shard)' })
          .option('sla', { type: 'string', array: true, describe: 'extra or replacing SLA expression' }),
      async (a) => {
        const { mergeCommand } = await import('./merge-command.ts');
        const m = await mergeCommand({ dirs: a.dirs, out: a.out, sla: a.sla });
        process.stdout.write(m.text + '\n');
        code = m.result.exitCode;
      },
    )
    .command(
      'serve',
      'run the reference chat server until SIGINT/SIGTERM',
      (y) =>
        y
          .option('host', { type: 'string', default: '127.0.0.1' })
          .option('port', { type: 'number', default: 7420 })
          .option('store', { choices: ['memory', 'sqlite'] as const, default: 'sqlite' as const })
          .option('db', { type: 'string', describe: 'SQLite file (default: a fresh temporary file)' })
          .option('defect', { type: 'string', array: true, choices: DEFECTS, describe: 'deliberate defect mode (repeatable)' })
          .option('defect-rate', { type: 'number', describe: 'share of opportunities where a defect fires (default 0.02)' })
          .option('rate-limit', { type: 'number', describe: 'messages per second per account (0 = off)' })
          .option('preload', { type: 'string', describe: 'bulk history to create at start, e.g. "conv=dm00001,count=1000000"' })
          .option('token', { type: 'string', describe: 'server token admin calls and devices must present (default: $CHATSTORM_SERVER_TOKEN; beyond loopback a random one, printed)' })
          .option('seed', { type: 'number' }),
      async (a) => {
        if (!Number.isInteger(a.port) || a.port < 0 || a.port > 65535) throw new UsageError(`--port must be 0..65535, got ${a.port}`);
        const { runServeCli } = await import('../server/index.ts');
        await runServeCli({
          host: a.host,
          port: a.port,
          store: a.store,
          dbPath: a.db,
          defects: a.defect as never,
          defectRate: a['defect-rate'],
          rateLimit: a['rate-limit'] === undefined ? undefined : a['rate-limit'] === 0 ? null : { perSecond: a['rate-limit'], burst: a['rate-limit'] * 2 },
          preload: a.preload,
          token: a.token,
          seed: a.seed,
        });
      },
    )
    .command(
      'proxy',
      'run the embedded Toxiproxy-compatible API until SIGINT/SIGTERM',
      (y) => y.option('host', { type: 'string', default: '127.0.0.1' }).option('port', { type: 'number', default: 8474 }),
      async (a) => {
        if (!Number.isInteger(a.port) || a.port < 0 || a.port > 65535) throw new UsageError(`--port must be 0..65535, got ${a.port}`);
        const { runProxyCli } = await import('../proxy/index.ts');
        await runProxyCli({ host: a.host, port: a.port });
      },
    )
    .command(
      'driver-test <driver>',
      'run the driver contract test kit: connect, send/ack, fan-out, reconnect, resend after a kill, history (docs/drivers.md)',
      (y) =>
        y
          .positional('driver', { type: 'string', demandOption: true, describe: 'a built-in driver name (reference) or a module path such as ./my-driver.ts' })
          .option('target', { type: 'string', describe: 'the back end\'s ws:// or wss:// URL (default: the built-in reference server, reference driver only)' })
          .option('http-target', { type: 'string', describe: 'HTTP(S) base URL of the server\'s API for drivers that call one (as for run)' })
          .option('ca', { type: 'string', describe: 'PEM file to trust for a wss:// target' })
          .option('insecure', { type: 'boolean', describe: 'do not verify the wss:// target\'s certificate' })
          .option('toxiproxy', { type: 'string', describe: 'Toxiproxy API URL, or "embedded" (default: embedded)' })
          .option('seed', { type: 'number', describe: 'seed of the built-in scenario' })
          .option('out', { type: 'string', default: 'reports', describe: 'parent folder of the run folder' })
          .option('defect', { type: 'string', array: true, choices: DEFECTS, describe: 'defect mode of the built-in server (no --target): see the kit fail' })
          .option('defect-rate', { type: 'number', describe: 'share of opportunities where a defect fires' }),
      async (a) => {
        const { driverTestCli } = await import('./driver-test-command.ts');
        const r = await driverTestCli({ driver: a.driver, target: a.target, httpTarget: a['http-target'], ca: a.ca, insecure: a.insecure, toxiproxy: a.toxiproxy, out: a.out, seed: a.seed, defect: a.defect, defectRate: a['defect-rate'] });
        process.stdout.write(r.text + '\n');
        code = r.exitCode;
      },
    )
    .command(
      'init [dir]',
      'scaffold a scenario, a driver skeleton and package.json scripts in a project',
      (y) =>
        y
          .positional('dir', { type: 'string', default: '.', describe: 'the project folder' })
          .option('force', { type: 'boolean', default: false, describe: 'overwrite existing scaffold files and script lines' }),
      async (a) => {
        const { initProject, describeInit } = await import('./init-command.ts');
        const r = await initProject({ dir: a.dir, force: a.force });
        process.stdout.write(describeInit(r, a.dir) + '\n');
      },
    )
    .command(
      'cleanup',
      'remove from a Toxiproxy the proxies of chatstorm runs that are no longer alive (killed runs)',
      (y) =>
        y
          .option('toxiproxy', { type: 'string', describe: 'Toxiproxy API URL (default: $TOXIPROXY_URL, else http://127.0.0.1:8474)' })
          .option('dry-run', { type: 'boolean', default: false, describe: 'say what would be removed, remove nothing' }),
      async (a) => {
        const { cleanup } = await import('./cleanup-command.ts');
        const r = await cleanup({ toxiproxy: a.toxiproxy, dryRun: a['dry-run'] });
        process.stdout.write(r.text + '\n');
        code = r.exitCode;
      },
    )
    .demandCommand(1, 'name a command: run, replay, trace, capacity, check, merge, serve, proxy, cleanup or init')
    .epilog('exit codes: 0 pass, 1 a check or SLA failed, 2 bad usage or scenario, 3 infrastructure or harness failure')
    .help()
    .version(false);

  try {
    await cli.parseAsync();
  } catch (err) {
    const msg = err instanceof ChatstormError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(`chatstorm: ${msg}\n`);
    if (err instanceof UsageError) process.stderr.write('run `chatstorm --help` for usage\n');
    return exitCodeFor(err);
  }
  return code;
}
