import { noop } from './toxics/noop.ts';
import {
  INTERRUPTED,
  TIMED_OUT,
  isStateful,
  type Chunk,
  type End,
  type Item,
  type StageIo,
} from './toxics/toxic.ts';
import type { ToxicSpec } from './toxic-spec.ts';

/** Anything a stage can pass items to: the next stage or the link's sink. */
export interface ItemSink {
  push(item: Item): void;
}

/** What a stage needs from its link. */
export interface StageHost {
  /** Bytes left the flow (dropped); lets the link resume reading. */
  released(bytes: number): void;
  /** A stage asked to reset the connection. */
  resetFromStage(): void;
}

type Waiter = (value: Item | typeof INTERRUPTED | typeof TIMED_OUT | true) => void;

/**
 * One toxic on one direction of one connection: an input queue plus the toxic's `pipe()`
 * coroutine. Interrupting it (for update or removal) wakes the coroutine, which hands back what it
 * holds and returns; the link then swaps the toxic or splices the stage out.
 */
export class Stage implements ItemSink {
  spec: ToxicSpec;
  next: ItemSink;
  /** Whether this connection drew the toxic (toxicity is rolled per connection and per update). */
  private applies: boolean;
  private readonly queue: Item[] = [];
  private waiter: Waiter | undefined;
  /** The waiter is a `read()` (items may wake it), not a `sleep()`. */
  private waiterReads = false;
  private timer: NodeJS.Timeout | undefined;
  private interruptRequested = false;
  private running: Promise<void> | undefined;
  /** The stage passed end-of-stream on (or the connection went away); input is discarded. */
  finished = false;
  private readonly state: unknown;
  private readonly io: StageIo;

  constructor(
    spec: ToxicSpec,
    next: ItemSink,
    private readonly host: StageHost,
  ) {
    this.spec = spec;
    this.next = next;
    this.applies = rollToxicity(spec.toxicity);
    this.state = isStateful(spec.toxic) ? spec.toxic.newState() : undefined;
    this.io = this.makeIo();
  }

  /** Starts (or restarts) the toxic's coroutine. */
  start(): void {
    if (this.finished) return;
    const toxic = this.applies ? this.spec.toxic : noop;
    this.running = toxic.pipe(this.io, this.spec.attributes).catch((err: unknown) => {
      // A toxic bug must not take the process down; end the connection instead.
      console.error(`chatstorm proxy: toxic ${this.spec.name} failed:`, err);
      this.io.close();
    });
  }

  push(item: Item): void {
    if (this.finished) {
      if (item.kind === 'data') this.host.released(item.data.length);
      return;
    }
    if (this.waiter && this.waiterReads && this.queue.length === 0) {
      this.wake(item);
      return;
    }
    this.queue.push(item);
  }

  /**
   * Stops the coroutine, leaving every item it held back in the queue. Resolves false when the
   * stage had already finished.
   */
  async interrupt(): Promise<boolean> {
    if (this.finished) return false;
    this.interruptRequested = true;
    if (this.waiter) this.wake(INTERRUPTED);
    await this.running;
    this.interruptRequested = false;
    this.running = undefined;
    return !this.finished;
  }

  /** Swaps the toxic's settings after an interrupt and starts again; re-rolls toxicity. */
  update(spec: ToxicSpec): void {
    this.spec = spec;
    this.applies = rollToxicity(spec.toxicity);
    this.start();
  }

  /** Hands every queued item to the next stage at once (removal flushes buffered data). */
  flush(): void {
    const items = this.queue.splice(0);
    for (const item of items) this.next.push(item);
  }

  /** The connection is gone: stop timers, drop the queue. */
  dispose(): void {
    this.finished = true;
    this.queue.length = 0;
    if (this.waiter) this.wake(INTERRUPTED);
  }

  /** The stage-side view given to the toxic. */
  get stageIo(): StageIo {
    return this.io;
  }

  private wake(value: Item | typeof INTERRUPTED | typeof TIMED_OUT | true): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    waiter?.(value);
  }

  private makeIo(): StageIo {
    const stage = this;
    return {
      read(timeoutMs?: number) {
        if (stage.interruptRequested || stage.finished) return Promise.resolve(INTERRUPTED);
        const item = stage.queue.shift();
        if (item) return Promise.resolve(item);
        return new Promise((resolve) => {
          stage.waiter = resolve as Waiter;
          stage.waiterReads = true;
          if (timeoutMs !== undefined && timeoutMs > 0) {
            stage.timer = setTimeout(() => stage.wake(TIMED_OUT), timeoutMs);
          }
        });
      },
      sleep(ms: number) {
        if (stage.interruptRequested || stage.finished) return Promise.resolve(INTERRUPTED);
        return new Promise((resolve) => {
          stage.waiter = resolve as Waiter;
          stage.waiterReads = false;
          stage.timer = setTimeout(() => stage.wake(true), Math.max(0, ms));
        });
      },
      write(chunk: Chunk) {
        stage.next.push(chunk);
      },
      unread(item: Item) {
        stage.queue.unshift(item);
      },
      drop(bytes: number) {
        stage.host.released(bytes);
      },
      end(item: End) {
        stage.finished = true;
        stage.next.push(item);
      },
      close() {
        if (stage.finished) return;
        stage.finished = true;
        stage.next.push({ kind: 'end', reason: 'closed' });
      },
      reset() {
        stage.finished = true;
        stage.host.resetFromStage();
      },
      get state() {
        return stage.state;
      },
    };
  }
}

function rollToxicity(toxicity: number): boolean {
  return toxicity >= 1 || Math.random() < toxicity;
}
