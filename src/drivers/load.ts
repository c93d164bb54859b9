/**
 * `--driver NAME|PATH` and `--driver-option key=value`: the built-in drivers by name
 * (`reference`, `xmpp`), or a module that exports a driver (default export or `driver`).
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UsageError } from '../errors.ts';
import type { Driver } from './driver.ts';
import { referenceDriver } from './reference.ts';
import { xmppDriver, type XmppDriverOptions } from './xmpp/driver.ts';

/** Names of the built-in drivers. */
export const BUILT_IN_DRIVERS = ['reference', 'xmpp'] as const;

/** Parse `key=value` pairs (repeatable flag) into an object; a pair without `=` is a usage error. */
export function parseDriverOptions(pairs: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i <= 0) throw new UsageError(`--driver-option must be key=value, e.g. --driver-option mode=naive, got ${JSON.stringify(p)}`);
    out[p.slice(0, i)] = p.slice(i + 1);
  }
  return out;
}

function xmppOptions(o: Record<string, string>): XmppDriverOptions {
  const known = ['mode', 'domain', 'muc-domain', 'upload-domain', 'resume'];
  for (const k of Object.keys(o)) {
    if (!known.includes(k)) throw new UsageError(`--driver-option ${k}: unknown option of driver xmpp (options: ${known.join(', ')})`);
  }
  if (o.mode !== undefined && o.mode !== 'careful' && o.mode !== 'naive') {
    throw new UsageError(`--driver-option mode must be careful (resume, look up the archive before resending) or naive (reconnect and resend), got ${JSON.stringify(o.mode)}`);
  }
  if (o.resume !== undefined && o.resume !== 'true' && o.resume !== 'false') {
    throw new UsageError(`--driver-option resume must be true or false, got ${JSON.stringify(o.resume)}`);
  }
  return {
    ...(o.resume === undefined ? {} : { resume: o.resume === 'true' }),
    ...(o.mode === undefined ? {} : { mode: o.mode as 'careful' | 'naive' }),
    ...(o.domain === undefined ? {} : { domain: o.domain }),
    ...(o['muc-domain'] === undefined ? {} : { mucDomain: o['muc-domain'] }),
    ...(o['upload-domain'] === undefined ? {} : { uploadDomain: o['upload-domain'] }),
  };
}

/**
 * The driver `spec` names: a built-in name, or the path of a module exporting one. `undefined`
 * means the reference driver (the runner's default).
 */
export async function resolveDriver(spec: string | undefined, options: Record<string, string> = {}): Promise<Driver | undefined> {
  if (spec === undefined || spec === 'reference') {
    if (Object.keys(options).length > 0) throw new UsageError('--driver-option applies to --driver xmpp or a driver module, not the reference driver');
    return spec === undefined ? undefined : (referenceDriver as unknown as Driver);
  }
  if (spec === 'xmpp') return xmppDriver(xmppOptions(options)) as unknown as Driver;
  if (!/[/.]/.test(spec)) throw new UsageError(`--driver ${spec}: not a built-in driver (${BUILT_IN_DRIVERS.join(', ')}) nor a path such as ./my-driver.ts`);
  const mod = (await import(pathToFileURL(resolve(spec)).href)) as { default?: unknown; driver?: unknown };
  const d = (mod.default ?? mod.driver) as Driver | ((o: Record<string, string>) => Driver) | undefined;
  const driver = typeof d === 'function' ? d(options) : d;
  if (driver === undefined || driver === null || (driver as Driver).contract !== 2) {
    throw new UsageError(`--driver ${spec}: the module exports no contract-2 driver (export default defineDriver({ contract: 2, ... }))`);
  }
  return driver;
}
