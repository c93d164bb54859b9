/**
 * CPU time of process trees that are not this process (a measurement child, the embedded proxy,
 * Artillery), read from Linux's /proc and sampled on a timer, so a benchmark can take the CPU a
 * tree spent between two moments another process reported (its start and end of play).
 *
 *   every `everyMs`:  /proc/<pid>/stat (+ each live descendant's)  -->  { atMs, ticks } per source
 *   cpuMsBetween(source, t0, t1):  ticks interpolated at t0 and t1, × 1000 / CLK_TCK
 *
 * A tree's ticks are utime + stime + cutime + cstime of its root plus the same of every live
 * descendant: a child that exited and was waited for is in its parent's cutime/cstime, a live one
 * is read itself, threads (Artillery's worker threads) are in their process's utime/stime.
 * Times are epoch milliseconds with a fraction (`performance.timeOrigin + performance.now()`),
 * which a child process can report for its own moments on the same clock.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** The fields of /proc/<pid>/stat a CPU reading needs; times in clock ticks (`getconf CLK_TCK`). */
export interface ProcStat {
  pid: number;
  ppid: number;
  utime: number;
  stime: number;
  /** Children that exited and were waited for. */
  cutime: number;
  cstime: number;
}

/**
 * Parse one /proc/<pid>/stat line (proc(5)). The command name (field 2) is in parentheses and may
 * itself hold spaces and parentheses, so the fields are counted from the last `)`.
 */
export function parseProcStat(text: string): ProcStat {
  const close = text.lastIndexOf(')');
  const pid = Number(text.slice(0, text.indexOf(' ')));
  // After ") ": field 3 (state) is index 0, so field n is index n - 3.
  const f = text.slice(close + 2).trim().split(' ');
  const at = (n: number) => Number(f[n - 3]);
  const stat = { pid, ppid: at(4), utime: at(14), stime: at(15), cutime: at(16), cstime: at(17) };
  if (close < 0 || Object.values(stat).some((v) => !Number.isInteger(v))) throw new Error(`not a /proc/<pid>/stat line: ${text.slice(0, 120)}`);
  return stat;
}

let ticksPerSecond: number | undefined;
/** `getconf CLK_TCK` (100 on Linux almost everywhere), read once. */
export function clockTicksPerSecond(): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  if (!(ticksPerSecond > 0)) throw new Error(`getconf CLK_TCK printed no positive number (${ticksPerSecond})`);
  return ticksPerSecond;
}

function readStat(pid: number): ProcStat | null {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null; // gone (exited and reaped) between listing and reading
  }
}

/** Child pids of `pid`: its threads' `children` files (CONFIG_PROC_CHILDREN), else a scan of /proc for its ppid. */
function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ').filter(Boolean).map(Number),
    );
  } catch {
    return readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .filter((d) => readStat(Number(d))?.ppid === pid)
      .map(Number);
  }
}

/** Ticks of `pid` and its live descendants (see the header); null when `pid` is gone. */
export function treeTicks(pid: number): number | null {
  const s = readStat(pid);
  if (!s) return null;
  let ticks = s.utime + s.stime + s.cutime + s.cstime;
  for (const c of childrenOf(pid)) ticks += treeTicks(c) ?? 0;
  return ticks;
}

/** One reading of one source. */
export interface CpuSample {
  atMs: number;
  ticks: number;
}

/**
 * Ticks at `atMs`, linear between the samples either side; null when `atMs` is not between two
 * samples (before the first, or after the last: the process was gone or sampling had stopped).
 */
export function ticksAt(samples: readonly CpuSample[], atMs: number): number | null {
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1]!;
    const b = samples[i]!;
    if (a.atMs <= atMs && atMs <= b.atMs) return b.atMs === a.atMs ? b.ticks : a.ticks + ((b.ticks - a.ticks) * (atMs - a.atMs)) / (b.atMs - a.atMs);
  }
  return null;
}

/** Epoch milliseconds with a fraction, comparable across processes (see the header). */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Samples the CPU ticks of named process trees every `everyMs` until stopped. */
export class CpuSampler {
  private readonly samples = new Map<string, CpuSample[]>();
  private readonly pids = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly everyMs = 50) {}

  /** Start sampling `pid`'s tree as `name` (a first sample now); sampling runs while any source is added. */
  add(name: string, pid: number): void {
    this.pids.set(name, pid);
    this.samples.set(name, []);
    this.sample();
    this.timer ??= setInterval(() => this.sample(), this.everyMs);
  }

  /** A last sample, then no more. */
  stop(): void {
    this.sample();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** CPU milliseconds `name`'s tree spent between `fromMs` and `toMs` (epoch ms); null when either is outside the samples. */
  cpuMsBetween(name: string, fromMs: number, toMs: number): number | null {
    const s = this.samples.get(name) ?? [];
    const a = ticksAt(s, fromMs);
    const b = ticksAt(s, toMs);
    return a === null || b === null ? null : ((b - a) * 1000) / clockTicksPerSecond();
  }

  private sample(): void {
    const atMs = epochMs();
    for (const [name, pid] of this.pids) {
      const ticks = treeTicks(pid);
      if (ticks !== null) this.samples.get(name)!.push({ atMs, ticks });
    }
  }
}
