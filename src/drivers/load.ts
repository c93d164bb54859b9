/**
 * Find the driver a run uses: a built-in one by name (`--driver reference`) or a user's module
 * by path (`--driver ./my-driver.ts`, or `driver:` in a scenario, relative to the scenario file).
 * A module is loaded like a scenario file (TypeScript through tsx, no build step) and must export
 * a driver as its default export or as `driver`.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidDriverError, UsageError } from '../errors.ts';
import { DRIVER_CONTRACT, type Driver } from './driver.ts';
import { referenceDriver } from './reference.ts';
import { xmppDriver, type XmppDriverOptions } from './xmpp/driver.ts';

/** Options of a driver, from `--driver-option key=value` (repeatable). */
export type DriverOptions = Readonly<Record<string, string>>;

/**
 * Drivers that ship with chatstorm, by the name `--driver` takes: each made from its options.
 * The reference driver takes none.
 */
export const BUILTIN_DRIVERS: Readonly<Record<string, (options: DriverOptions) => Driver>> = {
  reference: (o) => {
    if (Object.keys(o).length > 0) throw new UsageError('--driver-option applies to --driver xmpp or a driver module, not the reference driver');
    return referenceDriver as unknown as Driver;
  },
  xmpp: (o) => xmppDriver(xmppOptions(o)) as unknown as Driver,
};

/** Parse `key=value` pairs (the repeatable flag) into an object; a pair without `=` is a usage error. */
export function parseDriverOptions(pairs: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i <= 0) throw new UsageError(`--driver-option must be key=value, e.g. --driver-option mode=naive, got ${JSON.stringify(p)}`);
    out[p.slice(0, i)] = p.slice(i + 1);
  }
  return out;
}

function xmppOptions(o: DriverOptions): XmppDriverOptions {
  const known = ['mode', 'domain', 'muc-domain', 'upload-domain', 'resume', 'resume-wait-ms'];
  for (const k of Object.keys(o)) {
    if (!known.includes(k)) throw new UsageError(`--driver-option ${k}: unknown option of driver xmpp (options: ${known.join(', ')})`);
  }
  if (o['mode'] !== undefined && o['mode'] !== 'careful' && o['mode'] !== 'naive') {
    throw new UsageError(`--driver-option mode must be careful (resume, look up the archive before resending) or naive (reconnect and resend), got ${JSON.stringify(o['mode'])}`);
  }
  if (o['resume'] !== undefined && o['resume'] !== 'true' && o['resume'] !== 'false') {
    throw new UsageError(`--driver-option resume must be true or false, got ${JSON.stringify(o['resume'])}`);
  }
  const wait = o['resume-wait-ms'];
  if (wait !== undefined && !/^[1-9][0-9]*$/.test(wait)) {
    throw new UsageError(`--driver-option resume-wait-ms must be a positive whole number of milliseconds (default 2000), got ${JSON.stringify(wait)}`);
  }
  return {
    ...(wait === undefined ? {} : { resumeWaitMs: Number(wait) }),
    ...(o['resume'] === undefined ? {} : { resume: o['resume'] === 'true' }),
    ...(o['mode'] === undefined ? {} : { mode: o['mode'] as 'careful' | 'naive' }),
    ...(o['domain'] === undefined ? {} : { domain: o['domain'] }),
    ...(o['muc-domain'] === undefined ? {} : { mucDomain: o['muc-domain'] }),
    ...(o['upload-domain'] === undefined ? {} : { uploadDomain: o['upload-domain'] }),
  };
}

/** The members every driver must have, each a function (the rest of the contract is optional). */
const REQUIRED_METHODS = ['provision', 'connect'] as const;

const EXPECTED =
  'expected `export default defineDriver({ contract: 2, name, capabilities, limits, provision, connect, ... })` (or `export const driver = ...`), ' +
  'see `chatstorm init` for a skeleton';

/** Whether `spec` names a module file rather than a built-in driver. */
function isPath(spec: string): boolean {
  return spec.startsWith('.') || isAbsolute(spec) || /\.[cm]?[jt]s$/.test(spec);
}

/**
 * Resolve `spec` to a driver. `from` names where the spec came from in errors (`--driver`,
 * `scenario.driver`); `baseDir` is what a relative path is resolved against.
 */
export async function loadDriver(spec: string, options: { baseDir?: string; from?: string; driverOptions?: DriverOptions } = {}): Promise<Driver> {
  const from = options.from ?? '--driver';
  const driverOptions = options.driverOptions ?? {};
  if (!isPath(spec)) {
    const builtin = BUILTIN_DRIVERS[spec];
    if (builtin) return builtin(driverOptions);
    throw new InvalidDriverError(
      `${from} ${JSON.stringify(spec)}: no built-in driver of that name (built-in: ${Object.keys(BUILTIN_DRIVERS).join(', ')}); ` +
        'a driver module is named by its path, e.g. ./my-driver.ts',
    );
  }
  const path = resolve(options.baseDir ?? process.cwd(), spec);
  if (!existsSync(path)) throw new InvalidDriverError(`${from} ${spec}: the driver module does not exist (looked at ${path})`);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new InvalidDriverError(`${from} ${spec}: the driver module could not be loaded: ${msg}`, { cause: err });
  }
  const exported = mod.default ?? mod.driver;
  if (exported === undefined) throw new InvalidDriverError(`${from} ${spec}: no default export and no export named \`driver\`; ${EXPECTED}`);
  // A module may export a factory that takes the `--driver-option` pairs.
  const driver = typeof exported === 'function' ? (exported as (o: DriverOptions) => unknown)(driverOptions) : exported;
  if (typeof exported !== 'function' && Object.keys(driverOptions).length > 0) {
    throw new UsageError(`--driver-option is given, but ${spec} exports a driver object, not a factory that takes options (export default (options) => defineDriver({...}))`);
  }
  return checkDriver(driver, `${from} ${spec}`);
}

/**
 * Check that `value` has a driver's shape (a name and the required methods); `what` names it in
 * the error. Returns it typed.
 */
export function checkDriver(value: unknown, what = 'driver'): Driver {
  if (typeof value !== 'object' || value === null) {
    throw new InvalidDriverError(`${what}: the export is ${value === null ? 'null' : typeof value}, not a driver object; ${EXPECTED}`);
  }
  const d = value as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof d.name !== 'string' || d.name === '') problems.push('`name` must be a non-empty string');
  for (const m of REQUIRED_METHODS) if (typeof d[m] !== 'function') problems.push(`\`${m}\` must be a function, got ${typeof d[m]}`);
  if (d.contract !== DRIVER_CONTRACT) {
    problems.push(`\`contract\` must be ${DRIVER_CONTRACT} (this chatstorm speaks driver contract ${DRIVER_CONTRACT}, docs/drivers.md), got ${JSON.stringify(d.contract)}`);
  }
  for (const f of ['capabilities', 'limits'] as const) {
    if (typeof d[f] !== 'object' || d[f] === null) problems.push(`\`${f}\` must be an object (what the back end can do, docs/drivers.md), got ${d[f] === null ? 'null' : typeof d[f]}`);
  }
  if (problems.length > 0) throw new InvalidDriverError(`${what}: not a driver: ${problems.join('; ')}; ${EXPECTED}`);
  return value as Driver;
}
