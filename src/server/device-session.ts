/**
 * One connected device: its WebSocket, its sync state and its send buffer.
 *
 * A device is live for a conversation (gets fan-out) once it has sent `sync` and the replay of
 * that conversation has finished; `replaying` holds the conversations still being replayed,
 * each with a generation number so that a newer `sync` cancels an older replay.
 */
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { CloseCode, type ServerFrame } from '../protocol/frames.ts';
import type { Corkable, WriteBatch } from './write-batch.ts';

const TEXT = { binary: false } as const;
const BINARY = { binary: true } as const;

/** One authenticated device connection (the newest of its device; older ones are closed 4409). */
export class DeviceSession implements Corkable {
  /** Set when the device has sent `sync`. */
  synced = false;
  /** Conversations whose replay is in progress -> replay generation. */
  readonly replaying = new Map<string, number>();
  private replayGeneration = 0;
  private closed = false;
  private errorCount = 0;
  private errorWindowStartMs = 0;
  /** `reorder` defect: a msg frame held back per conversation, sent after the next one. */
  private readonly held = new Map<string, { frame: Buffer; timer: NodeJS.Timeout }>();

  constructor(
    readonly ws: WebSocket,
    /** The TCP socket under `ws` (the one passed to `handleUpgrade`), corked per turn by `batch`. */
    private readonly socket: Duplex,
    readonly device: string,
    readonly account: string,
    private readonly maxBufferedBytes: number,
    private readonly batch: WriteBatch,
  ) {
    ws.once('close', () => {
      this.closed = true;
      for (const h of this.held.values()) clearTimeout(h.timer);
      this.held.clear();
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Whether live fan-out of `conv` goes to this device. */
  liveFor(conv: string): boolean {
    return this.synced && !this.replaying.has(conv);
  }

  /** Mark `conv` as replaying; returns the generation to pass to {@link replayCurrent}. */
  beginReplay(conv: string): number {
    const gen = ++this.replayGeneration;
    this.replaying.set(conv, gen);
    return gen;
  }

  /** Whether the replay of `conv` with generation `gen` is still the current one. */
  replayCurrent(conv: string, gen: number): boolean {
    return !this.closed && this.replaying.get(conv) === gen;
  }

  /** Serialize and send one frame. */
  send(frame: ServerFrame): void {
    this.sendRaw(JSON.stringify(frame));
  }

  /**
   * Send an already serialized text frame. The fan-out path serializes and UTF-8 encodes a msg
   * once and passes the same Buffer for every recipient.
   */
  sendRaw(data: string | Buffer): void {
    if (this.closed) return;
    this.batch.add(this);
    this.ws.send(data, TEXT);
  }

  cork(): void {
    this.socket.cork();
  }

  /**
   * End of turn. What the kernel did not take stays queued; a device whose queue passes
   * `maxBufferedBytes` is not reading and is closed with 4429 instead of growing the server's
   * memory forever. (Checked here, not per send: within a turn everything sits in the cork.)
   */
  uncork(): void {
    this.socket.uncork();
    if (!this.closed && this.ws.bufferedAmount > this.maxBufferedBytes) {
      this.close(CloseCode.slowConsumer, `more than ${this.maxBufferedBytes} bytes queued for this device`);
    }
  }

  /**
   * Send a text (string) or binary (Buffer) frame and resolve once it is written to the socket;
   * replay and downloads use it to wait for a slow link instead of queueing without bound.
   */
  sendAndFlush(data: string | Buffer): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.batch.add(this);
    return new Promise((resolve) => {
      this.ws.send(data, typeof data === 'string' ? TEXT : BINARY, () => resolve());
    });
  }

  /**
   * `reorder` defect delivery: if a frame of `conv` is held, send `frame` first and then the held
   * one (the two arrive swapped). With `hold`, keep `frame` back until the next one, or 50 ms.
   */
  sendReordered(conv: string, frame: Buffer, hold: boolean): void {
    const prev = this.held.get(conv);
    if (prev) {
      clearTimeout(prev.timer);
      this.held.delete(conv);
      this.sendRaw(frame);
      this.sendRaw(prev.frame);
      return;
    }
    if (!hold) {
      this.sendRaw(frame);
      return;
    }
    const timer = setTimeout(() => {
      this.held.delete(conv);
      this.sendRaw(frame);
    }, 50);
    timer.unref();
    this.held.set(conv, { frame, timer });
  }

  /**
   * Count one protocol error; true when the device has made too many (more than 32 within
   * 10 s) and should be closed with 4400.
   */
  countError(nowMs: number): boolean {
    if (nowMs - this.errorWindowStartMs > 10_000) {
      this.errorWindowStartMs = nowMs;
      this.errorCount = 0;
    }
    return ++this.errorCount > 32;
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.ws.close(code, reason);
  }
}
