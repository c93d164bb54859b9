import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { clockTicksPerSecond, parseProcStat, ticksAt, treeTicks } from '../../bench/lib/proc-cpu.ts';

// A real line of /proc/<pid>/stat (proc(5)) with a command name holding a space and a parenthesis.
const LINE = '4905 (node (main) x) S 3566 4905 3566 34816 4905 4194304 2183 0 0 0 41 7 12 3 20 0 11 0 3129188 1180000256 12000 18446744073709551615 1 1 0 0 0 0 0 16781312 134234626 0 0 0 17 1 0 0 0 0 0';

describe('parseProcStat', () => {
  it('reads pid, ppid and the four CPU times counted from the last parenthesis', () => {
    expect(parseProcStat(LINE)).toEqual({ pid: 4905, ppid: 3566, utime: 41, stime: 7, cutime: 12, cstime: 3 });
  });

  it('reads this process its own stat', () => {
    const s = parseProcStat(spawnSync('cat', ['/proc/self/stat'], { encoding: 'utf8' }).stdout);
    expect(s.ppid).toBe(process.pid);
  });

  it('refuses a line that is not a stat line, quoting it', () => {
    expect(() => parseProcStat('hello world')).toThrow(/not a \/proc\/<pid>\/stat line: hello world/);
  });
});

describe('ticksAt', () => {
  const samples = [
    { atMs: 1000, ticks: 10 },
    { atMs: 1100, ticks: 20 },
    { atMs: 1300, ticks: 20 },
  ];

  it('interpolates linearly between the samples either side', () => {
    expect(ticksAt(samples, 1050)).toBe(15);
    expect(ticksAt(samples, 1100)).toBe(20);
    expect(ticksAt(samples, 1200)).toBe(20);
  });

  it('gives null outside the samples, never an extrapolation', () => {
    expect(ticksAt(samples, 999)).toBeNull();
    expect(ticksAt(samples, 1301)).toBeNull();
    expect(ticksAt([], 1000)).toBeNull();
  });
});

describe('treeTicks', () => {
  it('counts a child that exited and was waited for in its parent', () => {
    const before = treeTicks(process.pid)!;
    // The child burns at least 200 ms of its own CPU, however long that takes on a loaded machine.
    const burn = 'const t = process.cpuUsage(); while ((u => u.user + u.system)(process.cpuUsage(t)) < 200_000);';
    expect(spawnSync(process.execPath, ['-e', burn]).status).toBe(0);
    const after = treeTicks(process.pid)!;
    expect(after - before).toBeGreaterThanOrEqual(0.2 * clockTicksPerSecond() - 1);
  });

  it('gives null for a process that is gone', () => {
    const gone = spawnSync('true').pid!;
    expect(treeTicks(gone)).toBeNull();
  });
});
