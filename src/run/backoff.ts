/**
 * Reconnect backoff: exponential with full jitter (AWS architecture blog, "Exponential Backoff
 * and Jitter"), so a reconnect storm after an outage spreads out instead of arriving in waves.
 */
export interface BackoffOptions {
  /** First delay ceiling, default 200 ms. */
  baseMs?: number;
  /** Largest delay ceiling, default 5000 ms. */
  maxMs?: number;
}

/** Delay before reconnect attempt `attempt` (1-based); `random` is uniform in [0, 1). */
export function backoffMs(attempt: number, random: number, opts: BackoffOptions = {}): number {
  const base = opts.baseMs ?? 200;
  const max = opts.maxMs ?? 5000;
  const ceiling = Math.min(max, base * 2 ** Math.max(0, attempt - 1));
  return Math.max(10, random * ceiling);
}
