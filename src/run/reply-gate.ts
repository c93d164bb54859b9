/**
 * Causality for replayed traces: a reply (a planned send with `after`) waits until the message it
 * answers has reached the replier's account (any of its devices), as a person answers only what
 * they have seen. Waits are bounded: after `maxWaitMs` past its planned time the reply is sent
 * anyway (the answered message may be lost; the loss check reports that, not a stalled replier).
 *
 *   deliver events (synchronous recorder hook) --> delivered (account, key) --> release waiters
 */
import type { HistoryEvent } from '../history/events.ts';

export class ReplyGate {
  /** `account\0key` of every message delivered to an account that some reply waits for (or may). */
  private readonly seen = new Set<string>();
  private readonly waiting = new Map<string, ((atMs: number) => void)[]>();
  private readonly timers = new Set<NodeJS.Timeout>();

  /**
   * @param awaited `account\0key` pairs some planned reply waits for: only those are remembered.
   * @param now the run's clock, ms.
   */
  constructor(
    private readonly awaited: ReadonlySet<string>,
    private readonly now: () => number,
  ) {}

  /** Build the set of awaited pairs of a plan's sends. */
  static awaitedOf(sends: readonly { account: string; after?: string }[]): Set<string> {
    const out = new Set<string>();
    for (const s of sends) if (s.after !== undefined) out.add(`${s.account}\u0000${s.after}`);
    return out;
  }

  /** Recorder hook: note deliveries of awaited messages, releasing their waiters. */
  step = (e: HistoryEvent): void => {
    if (e.type !== 'deliver') return;
    const k = `${e.account}\u0000${e.key}`;
    if (!this.awaited.has(k) || this.seen.has(k)) return;
    this.seen.add(k);
    const ws = this.waiting.get(k);
    if (!ws) return;
    this.waiting.delete(k);
    for (const w of ws) w(e.atMs);
  };

  /**
   * Resolves with the time the reply may be intended for: `plannedMs` when the answered message
   * had already arrived, else the time it arrived, or `plannedMs + maxWaitMs` when it did not.
   */
  whenAnswerable(account: string, after: string, plannedMs: number, maxWaitMs: number, signal: AbortSignal): Promise<number> {
    const k = `${account}\u0000${after}`;
    if (this.seen.has(k)) return Promise.resolve(plannedMs);
    return new Promise((resolve) => {
      let done = false;
      const finish = (atMs: number) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.timers.delete(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(Math.max(plannedMs, atMs));
      };
      const onAbort = () => finish(this.now());
      const timer = setTimeout(() => finish(this.now()), Math.max(0, plannedMs + maxWaitMs - this.now()));
      this.timers.add(timer);
      signal.addEventListener('abort', onAbort, { once: true });
      const ws = this.waiting.get(k) ?? [];
      ws.push(finish);
      this.waiting.set(k, ws);
    });
  }

  /** Cancel every pending timer (end of run). */
  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
