import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { capacitySearch } from '../../src/cli/capacity-command.ts';
import { UsageError } from '../../src/errors.ts';

const FIXTURE = 'test/capacity/fixtures/throttled.ts';

describe('chatstorm capacity: usage errors before any probe (exit 2)', () => {
  afterEach(() => vi.restoreAllMocks());

  it.each([
    [['--budget', '5s'], /--budget 5\.00s cannot fit one probe of about 18\.0s \(window 10\.0s \+ grace 3\.00s \+ set-up\); raise --budget or shorten --probe-duration/],
    [['--resolution', '0%'], /--resolution must be a percentage above 0 such as 10%, got "0%"/],
    [['--max-rate', '0'], /--max-rate must be a number above 0, got 0/],
    [['--start-rate', '50', '--max-rate', '10'], /--max-rate \(10 msg\/s\) must be at least the start rate \(50 msg\/s/],
    [['--sla', 'delivry.p99 < 1s'], /SLA expression "delivry.p99 < 1s" is malformed at column 1/],
    [['--probe-duration', 'soon'], /--probe-duration: /],
    [['--target', 'http://127.0.0.1:1'], /--target must be a ws:\/\/ or wss:\/\/ URL/],
  ])('%j', async (args, message) => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const code = await main(['capacity', FIXTURE, '--quiet', ...args]);
    expect(code).toBe(2);
    expect(err.mock.calls.map((c) => String(c[0])).join('')).toMatch(message);
  });

  it('refuses a resolution of 100 % or more in the library too, naming the flag', async () => {
    const p = capacitySearch({ scenario: FIXTURE, resolution: 1 });
    await expect(p).rejects.toThrow(UsageError);
    await expect(capacitySearch({ scenario: FIXTURE, resolution: 1 })).rejects.toThrow(/--resolution must be a share between 0 and 100 %/);
  });
});
