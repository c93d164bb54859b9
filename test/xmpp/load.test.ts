/** `--driver` and `--driver-option`: built-in names, xmpp options, and the errors a user sees. */
import { describe, expect, it } from 'vitest';
import { loadDriver, parseDriverOptions } from '../../src/drivers/load.ts';
import { InvalidDriverError, UsageError } from '../../src/errors.ts';

describe('loadDriver with driver options', () => {
  it('builds the xmpp driver with its mode from the options', async () => {
    expect((await loadDriver('xmpp')).name).toBe('xmpp');
    const naive = await loadDriver('xmpp', { driverOptions: parseDriverOptions(['mode=naive']) });
    expect(naive.name).toBe('xmpp (naive)');
    expect(naive.capabilities.resumption).toBe(false);
    expect((await loadDriver('xmpp', { driverOptions: parseDriverOptions(['resume=false']) })).name).toBe('xmpp (careful, no resumption)');
    expect((await loadDriver('xmpp', { driverOptions: parseDriverOptions(['resume-wait-ms=5000']) })).name).toBe('xmpp');
  });

  it('names the reference driver', async () => {
    expect((await loadDriver('reference')).name).toBe('reference');
  });

  it('refuses an unknown mode, an unknown option, a bare word and a malformed pair, naming the flag', async () => {
    await expect(loadDriver('xmpp', { driverOptions: { mode: 'silly' } })).rejects.toThrow(/--driver-option mode must be careful .* or naive .*, got "silly"/);
    await expect(loadDriver('xmpp', { driverOptions: { colour: 'red' } })).rejects.toThrow(/--driver-option colour: unknown option of driver xmpp \(options: mode, domain, muc-domain, upload-domain, resume, resume-wait-ms\)/);
    await expect(loadDriver('xmpp', { driverOptions: { 'resume-wait-ms': '2s' } })).rejects.toThrow(/--driver-option resume-wait-ms must be a positive whole number of milliseconds \(default 2000\), got "2s"/);
    await expect(loadDriver('matrix')).rejects.toThrow(InvalidDriverError);
    await expect(loadDriver('matrix')).rejects.toThrow(/no built-in driver of that name \(built-in: reference, xmpp\)/);
    expect(() => parseDriverOptions(['mode'])).toThrow(UsageError);
    await expect(loadDriver('reference', { driverOptions: { mode: 'naive' } })).rejects.toBeInstanceOf(UsageError);
  });
});
