/**
 * Shared by the macro benchmarks: numeric `--name value` arguments, and running one side of a
 * comparison in a fresh child process that prints its measurement as JSON last on stdout.
 */
import { spawn } from 'node:child_process';

export function numericArg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

/** Run `script --child jobFile` under tsx with `nodeFlags`; resolve with the last JSON object it printed. */
export function runMeasurementChild<T>(script: string, jobFile: string, nodeFlags: string[] = [], timeoutMs = 300_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', script, '--child', jobFile], { stdio: ['ignore', 'pipe', 'inherit'] });
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
