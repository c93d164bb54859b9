/**
 * The main thread's run-queue wait (src/run/cpu-wait.ts): Linux schedstat read, the span between
 * two readings, and, on Linux, that the figures move the way the kernel says they do.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cpuWaitBetween, mainThreadCpu } from '../../src/run/cpu-wait.ts';
import { burnCpu } from './burn-cpu.ts';

const dir = mkdtempSync(join(tmpdir(), 'chatstorm-cpu-wait-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('mainThreadCpu', () => {
  it('reads schedstat: ns on a CPU, ns waiting on a run queue, time slices', () => {
    expect(mainThreadCpu(file('ok', '123456789 98765432 100\n'))).toEqual({ onCpuMs: 123.456789, waitedMs: 98.765432 });
  });

  it('is null where the file is missing or not schedstat', () => {
    expect(mainThreadCpu(join(dir, 'missing'))).toBeNull();
    expect(mainThreadCpu(file('bad', 'not numbers\n'))).toBeNull();
    expect(mainThreadCpu(file('empty', ''))).toBeNull();
  });

  it('gives the span between two readings, null when either is missing', () => {
    expect(cpuWaitBetween({ onCpuMs: 100, waitedMs: 10 }, { onCpuMs: 350.04, waitedMs: 60.06 }, 1000.04)).toEqual({ wallMs: 1000, onCpuMs: 250, waitedMs: 50.1 });
    expect(cpuWaitBetween(null, { onCpuMs: 1, waitedMs: 1 }, 10)).toBeNull();
    expect(cpuWaitBetween({ onCpuMs: 1, waitedMs: 1 }, null, 10)).toBeNull();
  });
});

describe.runIf(process.platform === 'linux')('mainThreadCpu on Linux', () => {
  it("counts this thread's CPU time as the kernel does", () => {
    const before = mainThreadCpu();
    expect(before).not.toBeNull();
    burnCpu(60);
    const after = mainThreadCpu()!;
    // The process's CPU includes other threads; this thread's share of 60 ms is most of it.
    expect(after.onCpuMs - before!.onCpuMs).toBeGreaterThan(30);
  });
});
