/**
 * Shared by the macro benchmarks: numeric `--name value` arguments, and running one side of a
 * comparison in a fresh child process that prints its measurement as JSON last on stdout.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startChild } from '../src/net/child.ts';

export function numericArg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

/** The loaders every chatstorm process runs with (tsx, without its keepNames wrappers). */
const LOADERS = fileURLToPath(new URL('../bin/register.js', import.meta.url));

/**
 * Run `script --child jobFile` with chatstorm's loaders (bin/register.js, as the command line and
 * its children load) and `nodeFlags`; resolve with the last JSON object it printed. Both sides of
 * a comparison run so: before 2026-12-02 they ran under plain tsx, whose keepNames wrappers cost
 * each closure about 256 bytes (docs/performance.md, session 12). `onSpawn` gets the child's pid (a bench that reads the child's CPU from /proc).
 */
export function runMeasurementChild<T>(script: string, jobFile: string, nodeFlags: string[] = [], timeoutMs = 300_000, onSpawn?: (pid: number) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeFlags, '--import', LOADERS, script, '--child', jobFile], { stdio: ['ignore', 'pipe', 'inherit'] });
    if (child.pid !== undefined) onSpawn?.(child.pid);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`measurement child exited ${code}: ${out}`));
      const at = out.lastIndexOf('\n{');
      resolve(JSON.parse(at >= 0 ? out.slice(at + 1) : out) as T);
    });
  });
}

/** `--judge after|live` of a bench (default after: what `chatstorm run` does); throws on anything else. */
export function judgeArg(): 'after' | 'live' {
  const i = process.argv.indexOf('--judge');
  const judge = i >= 0 ? process.argv[i + 1] : 'after';
  if (judge !== 'live' && judge !== 'after') throw new Error(`--judge must be after or live, got ${judge}`);
  return judge;
}

/** Node flags from an environment variable, split on spaces (e.g. BENCH_PROXY_FLAGS="--cpu-prof"). */
export function flagsOf(name: string): string[] {
  return (process.env[name] ?? '').split(' ').filter(Boolean);
}

/**
 * `chatstorm proxy --port 0` in a child process run with `nodeFlags` (startChild cannot pass
 * node flags, and --cpu-prof is not allowed in NODE_OPTIONS). Stopped with SIGTERM, so a profile
 * is written on the way out.
 */
export async function startProxy(nodeFlags: string[] = []): Promise<{ url: string; stop: () => Promise<void> }> {
  if (nodeFlags.length === 0) return startChild(['proxy', '--port', '0'], /listening on (http:\/\/\S+)/, 'embedded proxy');
  const bin = fileURLToPath(new URL('../bin/chatstorm.js', import.meta.url));
  const child = spawn(process.execPath, [...nodeFlags, bin, 'proxy', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('embedded proxy did not start within 20 s')), 20_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
  });
  return {
    url,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
