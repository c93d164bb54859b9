/**
 * Find the driver a run uses: a built-in one by name (`--driver reference`) or a user's module
 * by path (`--driver ./my-driver.ts`, or `driver:` in a scenario, relative to the scenario file).
 * A module is loaded like a scenario file (TypeScript through tsx, no build step) and must export
 * a driver as its default export or as `driver`.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidDriverError } from '../errors.ts';
import { DRIVER_CONTRACT, type Driver } from './driver.ts';
import { referenceDriver } from './reference.ts';

/** Drivers that ship with chatstorm, by the name `--driver` takes. */
export const BUILTIN_DRIVERS: Readonly<Record<string, Driver>> = { reference: referenceDriver };

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
export async function loadDriver(spec: string, options: { baseDir?: string; from?: string } = {}): Promise<Driver> {
  const from = options.from ?? '--driver';
  if (!isPath(spec)) {
    const builtin = BUILTIN_DRIVERS[spec];
    if (builtin) return builtin;
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
  const driver = mod.default ?? mod.driver;
  if (driver === undefined) throw new InvalidDriverError(`${from} ${spec}: no default export and no export named \`driver\`; ${EXPECTED}`);
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
