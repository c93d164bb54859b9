/**
 * How much of the time the harness's main thread wanted a CPU it had to wait for one.
 *
 * On a machine shared with the server, the embedded proxy and V8's own helper threads, a harness
 * stall is often not the harness's work: its thread is runnable and the kernel runs something
 * else. Measured on the 2-core machine here at 10,000 msg/s (docs/performance.md, "Session 9"):
 * the stalls that made the sender lag's tail were 8–22 ms waiting for a CPU against 3–8 ms on one,
 * and over 12.6 s of play the main thread waited about 1 s. Harness lag measures the lateness
 * either way; this says which kind it was, so the advice on an exit 3 can be the right one (fewer
 * processes per core, not a lighter scenario).
 *
 * Linux's per-thread schedstat (/proc/<pid>/task/<tid>/schedstat: ns on a CPU, ns runnable and
 * waiting on a run queue, time slices); the main thread's tid is the process id. Elsewhere, or
 * when the file cannot be read, null.
 */
import { readFileSync } from 'node:fs';

/** The main thread's CPU time and run-queue wait so far, ms. */
export interface ThreadCpuTimes {
  onCpuMs: number;
  waitedMs: number;
}

/** Over a span of the run: its wall time, the main thread's time on a CPU and waiting for one, ms. */
export interface CpuWaitFigures {
  wallMs: number;
  onCpuMs: number;
  waitedMs: number;
}

const SCHEDSTAT = `/proc/${process.pid}/task/${process.pid}/schedstat`;

/** The main thread's times so far, or null where Linux's schedstat cannot be read. */
export function mainThreadCpu(path = SCHEDSTAT): ThreadCpuTimes | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  const [onCpuNs, waitedNs] = text.trim().split(/\s+/).map(Number);
  if (!Number.isFinite(onCpuNs) || !Number.isFinite(waitedNs)) return null;
  return { onCpuMs: (onCpuNs as number) / 1e6, waitedMs: (waitedNs as number) / 1e6 };
}

/** A span's figures from two readings and its wall time; null when either reading is missing. */
export function cpuWaitBetween(from: ThreadCpuTimes | null, to: ThreadCpuTimes | null, wallMs: number): CpuWaitFigures | null {
  if (!from || !to) return null;
  const r = (ms: number) => Math.round(ms * 10) / 10;
  return { wallMs: r(wallMs), onCpuMs: r(Math.max(0, to.onCpuMs - from.onCpuMs)), waitedMs: r(Math.max(0, to.waitedMs - from.waitedMs)) };
}
