/**
 * Write batching: every socket written during one event-loop turn is corked and uncorked once at
 * the end of the turn, so the frames a device gets in one turn (msg fan-out of several senders,
 * its ack, the coalesced unread) leave in one writev system call instead of one each. On the
 * fan-out benchmark system calls are most of the server's CPU time (docs/performance.md).
 */
/** Something with a socket that can be corked for the rest of a turn. */
export interface Corkable {
  /** Called once per turn, when the batch first writes to it. */
  cork(): void;
  /** End of the turn: uncork (and check how much is still queued). */
  uncork(): void;
}

/** Corks what is written during one event-loop turn and flushes it at the turn's end. */
export class WriteBatch {
  private readonly corked = new Set<Corkable>();
  private scheduled = false;

  /** `beforeFlush` runs first at the end of each turn with writes (the hub's unread flush). */
  constructor(private readonly beforeFlush: () => void) {}

  /** Cork `target` until the end of this turn (idempotent within a turn). */
  add(target: Corkable): void {
    if (this.corked.has(target)) return;
    target.cork();
    this.corked.add(target);
    this.schedule();
  }

  /** Make sure the end-of-turn flush runs. */
  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.flush);
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    this.beforeFlush();
    for (const s of this.corked) s.uncork();
    this.corked.clear();
  };
}
