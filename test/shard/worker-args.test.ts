import { describe, expect, it } from 'vitest';
import { runWorkers, workerArgs } from '../../src/shard/local-workers.ts';

const place = { index: 2, count: 3, runId: 'r1', out: '/tmp/o', target: 'ws://127.0.0.1:1/ws', toxiproxy: 'http://127.0.0.1:2' };

describe('workerArgs', () => {
  it('gives each worker its shard and every run option the user gave', () => {
    const args = workerArgs(
      {
        workers: 3,
        scenario: 'scenarios/demo.ts',
        seed: 7,
        quick: true,
        driver: './my-driver.ts',
        driverOptions: { mode: 'naive', domain: 'example.com' },
        httpTarget: 'http://127.0.0.1:9',
        ca: 'ca.pem',
        insecure: true,
        allowHarnessLag: true,
        judge: 'after',
        sla: ['delivery.p99 < 3s'],
      },
      place,
    );
    const after = (flag: string) => args.filter((_, i) => args[i - 1] === flag);
    expect(args.slice(0, 2)).toEqual(['run', 'scenarios/demo.ts']);
    expect(after('--shard')).toEqual(['2/3']);
    expect(after('--seed')).toEqual(['7']);
    expect(after('--driver')).toEqual(['./my-driver.ts']);
    expect(after('--driver-option')).toEqual(['mode=naive', 'domain=example.com']);
    expect(after('--http-target')).toEqual(['http://127.0.0.1:9']);
    expect(after('--ca')).toEqual(['ca.pem']);
    expect(after('--sla')).toEqual(['delivery.p99 < 3s']);
    expect(after('--judge')).toEqual(['after']);
    for (const flag of ['--quick', '--insecure', '--allow-harness-lag']) expect(args).toContain(flag);
  });

  it('adds no flag the user did not give', () => {
    const args = workerArgs({ workers: 2, scenario: 's.ts' }, place);
    for (const flag of ['--quick', '--driver', '--driver-option', '--insecure', '--allow-harness-lag', '--seed', '--ca', '--judge']) expect(args).not.toContain(flag);
  });
});

describe('runWorkers refuses what a worker cannot carry, naming the flag', () => {
  it.each([
    [{ baseline: 'old/summary.json' }, /--baseline with --workers: .*chatstorm check/],
    [{ metricsPort: 0 }, /--metrics-port with --workers/],
  ])('%o', async (extra, message) => {
    await expect(runWorkers({ workers: 2, scenario: 'test/fixtures/small.ts', ...extra })).rejects.toThrow(message);
  });
});
