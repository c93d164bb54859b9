/**
 * Start a chatstorm subcommand (`serve`, `proxy`) in a child process and wait until it prints
 * its address. Children run in their own process so that their work never shares the harness's
 * event loop (the harness measures its own lag and must not be slowed by the server it tests).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { HarnessError } from '../errors.ts';
import { PARENT_WATCH_ENV } from './parent-watch.ts';

const BIN = fileURLToPath(new URL('../../bin/chatstorm.js', import.meta.url));

export interface ChildService {
  /** The address the child printed (first match of the ready pattern). */
  readonly url: string;
  readonly pid: number;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<ChildProcess>();
let hooked = false;
function killAllOnExit() {
  if (hooked) return;
  hooked = true;
  // Never leave a server or proxy behind on a normal exit; when this process is killed outright
  // (SIGKILL), the child sees its IPC channel close and ends itself (parent-watch.ts).
  process.on('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
}

/** Spawn `chatstorm <args>` and resolve with the URL matched by `ready` on its stdout. */
export function startChild(args: string[], ready: RegExp, what: string, timeoutMs = 20_000): Promise<ChildService> {
  killAllOnExit();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...process.env, [PARENT_WATCH_ENV]: '1' },
    });
    // The channel exists only so that the child notices this process is gone; it must not keep
    // this process alive.
    child.channel?.unref();
    live.add(child);
    let out = '';
    let err = '';
    let done = false;
    const exited = new Promise<void>((r) => child.once('exit', () => (live.delete(child), r())));
    const timer = setTimeout(() => finish(new HarnessError(`${what} did not start within ${timeoutMs} ms:\n${err || out}`)), timeoutMs);
    const finish = (e: Error | null, url?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (e) {
        child.kill('SIGKILL');
        reject(e);
        return;
      }
      resolve({
        url: url as string,
        pid: child.pid as number,
        stop: async (graceMs = 3000) => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill('SIGTERM');
          const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
          await exited;
          clearTimeout(t);
        },
      });
    };
    // Both are pipes (stdio above); the 4-entry stdio array loses that in the typings.
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      if (done) return;
      out += chunk;
      const m = ready.exec(out);
      if (m) finish(null, m[1] ?? m[0]);
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      if (err.length < 10_000) err += chunk;
    });
    child.once('exit', (code, signal) => finish(new HarnessError(`${what} exited (${signal ?? code}) before it was ready:\n${err || out}`)));
    child.once('error', (e) => finish(new HarnessError(`could not start ${what}: ${e.message}`, { cause: e })));
  });
}
