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
import type { Progress } from '../run/runner.ts';

import { DEFECT_NAMES } from '../server/options.ts';

const DEFECTS = [...DEFECT_NAMES];

function progressPrinter(): (p: Progress) => void {
  const tty = process.stderr.isTTY;
  let last = 0;
  return (p) => {
    const line = `[${(p.elapsedMs / 1000).toFixed(0).padStart(4)}s ${p.phase.padEnd(7)}] live ${p.live}/${p.devices}  sent ${p.sent}  acked ${p.acked}  delivered ${p.delivered}`;
    if (tty) process.stderr.write(`\r${line}\x1b[K`);
    else if (p.elapsedMs - last >= 5000) {
      last = p.elapsedMs;
      process.stderr.write(line + '\n');
    }
  };
}

/** Parse an optional duration flag that must be above zero. */
function positiveDuration(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const d = parseDuration(value);
  if (!d.ok) throw new UsageError(`${flag}: ${d.message}`);
  if (d.ms <= 0) throw new UsageError(`${flag} must be above zero, got ${JSON.stringify(value)}`);
  return d.ms;
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
          .option('target', { type: 'string', describe: 'chat server ws://HOST:PORT (default: start the built-in reference server)' })
          .option('toxiproxy', { type: 'string', describe: 'Toxiproxy API URL, or "embedded" (default: $TOXIPROXY_URL if it answers, else embedded)' })
          .option('driver', { type: 'string', describe: 'driver: reference (default), xmpp, or a module path ./my-driver.ts' })
          .option('driver-option', { type: 'string', array: true, describe: 'driver option key=value, e.g. mode=naive or domain=example.com for xmpp (repeatable)' })
          .option('seed', { type: 'number', describe: 'override the scenario seed' })
          .option('duration', { type: 'string', describe: 'override the send window, e.g. 10s' })
          .option('out', { type: 'string', default: 'reports', describe: 'parent folder of run folders' })
          .option('sla', { type: 'string', array: true, describe: 'SLA expression, e.g. "delivery.p99 < 3s" (repeatable)' })
          .option('defect', { type: 'string', array: true, choices: DEFECTS, describe: 'defect mode of the built-in server (no --target)' })
          .option('defect-rate', { type: 'number', describe: 'share of opportunities where a defect fires (default 0.02)' })
          .option('max-lag', { type: 'string', describe: 'harness sender-lag p99 limit before exit 3 (default 1s)' })
          .option('quiet', { type: 'boolean', default: false, describe: 'no progress line' }),
      async (a) => {
        if (a['defect-rate'] !== undefined && !(a['defect-rate'] > 0 && a['defect-rate'] <= 1)) {
          throw new UsageError(`--defect-rate must be in (0, 1], got ${a['defect-rate']}`);
        }
        if (a.target !== undefined && a.defect?.length) throw new UsageError('--defect applies to the built-in server only; drop --target or start `chatstorm serve --defect ...` yourself');
        if (a.seed !== undefined && (!Number.isInteger(a.seed) || a.seed < 0)) throw new UsageError(`--seed must be a non-negative integer, got ${a.seed}`);
        const dur = positiveDuration('--duration', a.duration);
        const lag = positiveDuration('--max-lag', a['max-lag']);
        const { resolveDriver, parseDriverOptions } = await import('../drivers/load.ts');
        const driver = await resolveDriver(a.driver, parseDriverOptions(a['driver-option']));
        if (driver !== undefined && a.driver !== 'reference' && a.target === undefined) {
          throw new UsageError(`--driver ${a.driver} needs --target (the built-in server speaks the reference protocol); for xmpp start one with scripts/xmpp/start.sh prosody`);
        }
        const { runScenario, describeResult } = await import('./run-command.ts');
        const ac = new AbortController();
        let interrupts = 0;
        const onSignal = () => {
          if (++interrupts > 1) {
            process.stderr.write(
              'chatstorm: quitting at once; on an external Toxiproxy, proxies named chatstorm-<run-id>-* may remain (remove them with DELETE /proxies/<name>)\n',
            );
            process.exit(130);
          }
          process.stderr.write('\nchatstorm: stopping — removing toxics and proxies, writing the report (Ctrl-C again to quit at once)\n');
          ac.abort();
        };
        // A bug that throws from a timer or socket callback ends the run like Ctrl-C does, with
        // the crash as its infrastructure error, so the proxies are removed and a report written.
        const onCrash = (err: unknown) => {
          const msg = err instanceof Error ? (err.stack ?? err.message) : String(err);
          process.stderr.write(`chatstorm: internal error, ending the run: ${msg}\n`);
          if (!ac.signal.aborted) ac.abort(new HarnessError(`harness crash: ${err instanceof Error ? err.message : String(err)}`));
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        process.on('uncaughtException', onCrash);
        process.on('unhandledRejection', onCrash);
        try {
          const r = await runScenario({
            scenario: a.scenario,
            target: a.target,
            toxiproxy: a.toxiproxy,
            driver,
            seed: a.seed,
            durationMs: dur,
            out: a.out,
            sla: a.sla,
            defects: a.defect,
            defectRate: a['defect-rate'],
            maxSenderLagMs: lag,
            signal: ac.signal,
            onProgress: a.quiet ? undefined : progressPrinter(),
          });
          if (!a.quiet && process.stderr.isTTY) process.stderr.write('\n');
          for (const n of r.notes) process.stderr.write(`chatstorm: note: ${n}\n`);
          process.stdout.write(describeResult(r) + '\n');
          code = r.exitCode;
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          process.off('uncaughtException', onCrash);
          process.off('unhandledRejection', onCrash);
        }
      },
    )
    .command(
      'check <dir>',
      're-judge a saved run from its history',
      (y) =>
        y
          .positional('dir', { type: 'string', demandOption: true, describe: 'run folder, e.g. reports/demo-...' })
          .option('sla', { type: 'string', array: true, describe: 'extra or replacing SLA expression' }),
      async (a) => {
        const { checkRun } = await import('./check-command.ts');
        const r = await checkRun(a.dir, a.sla);
        process.stdout.write(renderConsole(r.summary) + '\n');
        code = r.exitCode;
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
    .demandCommand(1, 'name a command: run, check, serve or proxy')
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
