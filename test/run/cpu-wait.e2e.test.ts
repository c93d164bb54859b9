/**
 * The main thread's run-queue wait (src/run/cpu-wait.ts) under real contention: more busy
 * processes than cores, so this thread waits its turn. Linux only; bounded (each burner ends
 * itself after 10 s and is killed as soon as the reading is taken).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { mainThreadCpu } from '../../src/run/cpu-wait.ts';
import { burnCpu } from './burn-cpu.ts';

describe.runIf(process.platform === 'linux')('mainThreadCpu on Linux', () => {
  const burners: ChildProcess[] = [];
  afterAll(() => {
    for (const c of burners) c.kill('SIGKILL');
  });

  it('counts time runnable but waiting, when more threads want a CPU than there are cores', async () => {
    // Two busy processes per core, each bounded (10 s of its own life at most): this thread must
    // then share the cores and wait its turn for some of them.
    const n = 2 * availableParallelism();
    const ready: Promise<void>[] = [];
    for (let i = 0; i < n; i++) {
      const c = spawn(process.execPath, ['-e', 'process.stdout.write("go"); const end = Date.now() + 10000; while (Date.now() < end) {}'], { stdio: ['ignore', 'pipe', 'ignore'] });
      burners.push(c);
      ready.push(new Promise((r) => c.stdout!.once('data', () => r())));
    }
    await Promise.all(ready);
    const before = mainThreadCpu()!;
    burnCpu(150);
    const after = mainThreadCpu()!;
    for (const c of burners) c.kill('SIGKILL');
    expect(after.waitedMs - before.waitedMs).toBeGreaterThan(0);
  });
});
