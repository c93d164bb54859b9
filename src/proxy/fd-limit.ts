import { readFileSync } from 'node:fs';

let reported = false;

/** Whether an error means the process ran out of file descriptors. */
export function isFdExhaustion(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return code === 'EMFILE' || code === 'ENFILE';
}

/**
 * Logs, once per process, that a client was closed because no file descriptor was left, naming
 * the limit. Further occurrences are silent: under overload this would otherwise flood the log.
 */
export function reportFdExhaustion(where: string, err: unknown): void {
  if (reported) return;
  reported = true;
  const code = (err as { code?: unknown } | undefined)?.code;
  console.error(
    `chatstorm proxy: out of file descriptors (${String(code)}) while ${where}; ` +
      `the open-file limit of this process is ${openFileLimit()} (see \`ulimit -n\`). ` +
      'The client was closed. Raise the limit (e.g. `ulimit -n 65536`) or lower the number of connections. ' +
      '(Reported once.)',
  );
}

function openFileLimit(): string {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    if (soft) return soft;
  } catch {
    // not Linux: fall through
  }
  return 'unknown';
}
