/**
 * Helpers for tests that start `chatstorm` as a process and look at what it leaves behind.
 * Linux only (/proc), like the CI machine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { processAlive } from '../../src/net/stale-proxies.ts';

export const BIN = new URL('../../bin/chatstorm.js', import.meta.url).pathname;

/** The chatstorm processes (`serve`, `proxy`) whose parent is `pid`, with their command. */
export function chatstormChildren(pid: number): { pid: number; command: string }[] {
  const out: { pid: number; command: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== pid) continue;
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const i = argv.findIndex((a) => a.endsWith('chatstorm.js'));
      if (i >= 0) out.push({ pid: Number(entry), command: argv.slice(i + 1).join(' ') });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Poll (every 50 ms, at most `timeoutMs`) until `ok()`; resolves whether it became true. */
export async function waitFor(ok: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/** Whether every pid is gone (a zombie counts as gone). */
export const allGone = (pids: number[]) => pids.every((p) => !processAlive(p));

/** How a process that ran to its end ended, and everything it printed. */
export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Options of {@link runToEnd}. */
export interface RunToEndOptions {
  cwd?: string;
  /** The whole environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Then SIGKILL (default 90 s): every test process is bounded. */
  timeoutMs?: number;
  /** Called with the child once spawned (to signal or kill it on an event). */
  onStart?: (child: ChildProcess) => void;
}

/** Run `cmd args` to its end with piped output; never rejects (a spawn failure ends it with code null). */
export function runToEnd(cmd: string, args: string[], opts: RunToEndOptions = {}): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const t = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 90_000);
    child.on('error', (err) => {
      clearTimeout(t);
      resolve({ code: null, stdout, stderr: stderr + String(err) });
    });
    child.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
    opts.onStart?.(child);
  });
}

/** Run `chatstorm <args>` to its end, without a Toxiproxy from the environment unless `env` names one. */
export function runChatstorm(args: string[], opts: { env?: Record<string, string> } & Omit<RunToEndOptions, 'env'> = {}): Promise<Ran> {
  return runToEnd(process.execPath, [BIN, ...args], { ...opts, env: { ...process.env, TOXIPROXY_URL: '', ...opts.env } });
}

/** A `chatstorm` process with its output so far and a promise of its end. */
export interface Started {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the stderr once it matches `re` (rejects if the process ends first). */
  waitStderr(re: RegExp): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Start `chatstorm <args>` with piped output. */
export function startChatstorm(args: string[], env: Record<string, string> = {}): Started {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TOXIPROXY_URL: '', ...env } });
  let stdout = '';
  let stderr = '';
  const waiters: { re: RegExp; resolve: (s: string) => void }[] = [];
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    for (const w of [...waiters]) if (w.re.test(stderr)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(stderr));
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    waitStderr: (re) =>
      re.test(stderr)
        ? Promise.resolve(stderr)
        : Promise.race([
            new Promise<string>((resolve) => waiters.push({ re, resolve })),
            exited.then(({ code, signal }) => {
              throw new Error(`chatstorm ended (${signal ?? code}) before stderr matched ${re}:\n${stderr}\n${stdout}`);
            }),
          ]),
  };
}
