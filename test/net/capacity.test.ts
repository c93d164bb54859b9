import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { connectionsPerProxyProcess, openFileLimit, planProxyProcesses, FD_RESERVE } from '../../src/net/capacity.ts';
import { ResourceLimitError } from '../../src/errors.ts';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            20000                20000                files
`;

describe('openFileLimit', () => {
  it('reads the soft limit from /proc/self/limits text', () => {
    expect(openFileLimit(LIMITS)).toBe(20_000);
    expect(openFileLimit(LIMITS.replace('20000                20000', 'unlimited            unlimited'))).toBe(Infinity);
    expect(openFileLimit('nothing here')).toBeNull();
  });

  it.skipIf(process.platform !== 'linux')('reads this process limit on Linux', () => {
    const limit = openFileLimit();
    // The soft limit the shell reports for a child, which inherits this process's limits.
    const shell = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
    expect(limit).toBe(shell === 'unlimited' ? Infinity : Number(shell));
  });
});

describe('planProxyProcesses', () => {
  it('puts small networks in one process', () => {
    expect(planProxyProcesses(new Map([['a', 100], ['b', 200]]), 20_000)).toEqual([['b', 'a']]);
  });

  it('spreads 10,000 devices over two proxy processes under a 20,000 limit', () => {
    const groups = planProxyProcesses(new Map([['eu', 5000], ['cn', 3000], ['us', 2000]]), 20_000);
    expect(connectionsPerProxyProcess(20_000)).toBe((20_000 - FD_RESERVE) / 2);
    expect(groups).toHaveLength(2);
    expect(groups.flat().sort()).toEqual(['cn', 'eu', 'us']);
  });

  it('refuses a network too large for one proxy process, naming the limit and the fix', () => {
    const run = () => planProxyProcesses(new Map([['eu', 12_000]]), 20_000);
    expect(run).toThrow(ResourceLimitError);
    try {
      run();
    } catch (err) {
      expect((err as ResourceLimitError).code).toBe('CHATSTORM_ERR_RESOURCE_LIMIT');
      expect((err as Error).message).toContain('network eu has 12000 devices');
      expect((err as Error).message).toContain('ulimit -n');
      expect((err as Error).message).toContain('Split the network');
    }
  });

  it('refuses more devices than the harness itself may open', () => {
    expect(() => planProxyProcesses(new Map([['a', 9000], ['b', 9000], ['c', 9000]]), 20_000)).toThrow(/harness needs one per device/);
  });

  it('keeps one process when the limit is unknown or unlimited', () => {
    expect(planProxyProcesses(new Map([['a', 50_000]]), null)).toEqual([['a']]);
    expect(planProxyProcesses(new Map([['a', 50_000]]), Infinity)).toEqual([['a']]);
  });
});
