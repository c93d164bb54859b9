/** `--driver` and `--driver-option`: built-in names, xmpp options, and the errors a user sees. */
import { describe, expect, it } from 'vitest';
import { parseDriverOptions, resolveDriver } from '../../src/drivers/load.ts';
import { UsageError } from '../../src/errors.ts';

describe('resolveDriver', () => {
  it('builds the xmpp driver with its mode from the options', async () => {
    expect((await resolveDriver('xmpp'))?.name).toBe('xmpp');
    const naive = await resolveDriver('xmpp', parseDriverOptions(['mode=naive']));
    expect(naive?.name).toBe('xmpp (naive)');
    expect(naive?.capabilities.resumption).toBe(false);
    expect((await resolveDriver('xmpp', parseDriverOptions(['resume=false'])))?.name).toBe('xmpp (careful, no resumption)');
  });

  it('leaves the reference driver as the default', async () => {
    expect(await resolveDriver(undefined)).toBeUndefined();
    expect((await resolveDriver('reference'))?.name).toBe('reference');
  });

  it('refuses an unknown mode, an unknown option, a bare word and a malformed pair, naming the flag', async () => {
    await expect(resolveDriver('xmpp', { mode: 'silly' })).rejects.toThrow(/--driver-option mode must be careful .* or naive .*, got "silly"/);
    await expect(resolveDriver('xmpp', { colour: 'red' })).rejects.toThrow(/--driver-option colour: unknown option of driver xmpp \(options: mode, domain, muc-domain, upload-domain, resume\)/);
    await expect(resolveDriver('matrix')).rejects.toThrow(/--driver matrix: not a built-in driver \(reference, xmpp\)/);
    expect(() => parseDriverOptions(['mode'])).toThrow(UsageError);
    await expect(resolveDriver('reference', { mode: 'naive' })).rejects.toBeInstanceOf(UsageError);
  });
});
