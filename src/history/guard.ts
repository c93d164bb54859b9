import type { HistoryEvent } from './events.ts';

/**
 * Wrap a history listener so that if it throws (a checker bug, a full disk) it is switched off
 * and the failure reported once, instead of unwinding into the runner's socket callbacks: the
 * run still tears down its proxies and writes whatever evidence it has.
 */
export function guardListener(name: string, fn: (e: HistoryEvent) => void, onFailure: (message: string) => void): (e: HistoryEvent) => void {
  let failed = false;
  return (e) => {
    if (failed) return;
    try {
      fn(e);
    } catch (err) {
      failed = true;
      onFailure(`${name} failed on a ${e.type} event at ${e.atMs} ms: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
}
