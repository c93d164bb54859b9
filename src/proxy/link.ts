/**
 * One direction of one proxied connection: bytes from `source` to `dest` through the toxics of
 * that direction, one stage per toxic, in the order the toxics were added.
 *
 *   fast path (no toxic on this direction): a plain relay, exactly what socket.pipe() does
 *
 *     source ──data──▶ dest.write()        pause source when write() says full, resume on 'drain'
 *
 *   chain (one or more toxics):
 *
 *     source ──data──▶ ┌───────────────┐   ┌───────────────┐         ┌──────┐
 *                      │ Stage latency │──▶│ Stage slicer  │──▶ … ──▶│ Sink │──▶ dest.write()
 *                      │ queue + pipe()│   │ queue + pipe()│         └──────┘    dest.end()
 *                      └───────────────┘   └───────────────┘
 *     flow control: pause source when held() > HIGH_WATER, resume when held() <= LOW_WATER, where
 *       held() = bytes inside the chain + dest's write buffer while dest owes a 'drain'
 *     and held() is re-checked on every decrease: a chunk leaving the chain for dest (toDest),
 *     bytes dropped by a toxic (released), a stage removed, and dest's 'drain'.
 *
 *     Why not just wait for 'drain': Node emits 'drain' only after a write() that returned false.
 *     A write the kernel takes at once leaves dest's buffer empty and returns true (Writable's
 *     writeOrBuffer: `length < highWaterMark || length === 0`), so a fast reader never causes a
 *     'drain'. The chain empties into such a dest without one, so the chain itself must resume.
 *
 * Live changes keep every byte, in order:
 *  - add:    the new stage is appended before the sink. A stage's output reaches the sink (and
 *            dest) synchronously, so nothing sits between the last stage and dest: rewiring is
 *            immediate. From the fast path, the next 'data' simply enters the chain.
 *  - update: interrupt the stage (its toxic hands back what it holds), swap settings, restart.
 *  - remove: interrupt, run the toxic's cleanup (timeout closes), push the stage's whole queue to
 *            the next stage at once, splice the stage out. An empty chain is the fast path again.
 * Changes on one link are serialised; data keeps flowing while a change waits for an interrupt.
 */
import type { Socket } from 'node:net';
import { Stage, type ItemSink, type StageHost } from './stage.ts';
import type { Stream, ToxicSpec } from './toxic-spec.ts';
import { hasCleanup, type Item } from './toxics/toxic.ts';

/** Pause reading the source above this many bytes held by the chain and dest's write buffer. */
const HIGH_WATER_BYTES = 4 * 1024 * 1024;
/** Resume reading below this. */
const LOW_WATER_BYTES = 1024 * 1024;

/** What a link reports to its connection. */
export interface LinkHost {
  /** End-of-stream reached dest (`dest.end()` has been called). */
  linkEnded(link: Link, reason: 'eof' | 'closed'): void;
  /** A toxic asked for a TCP reset of the connection. */
  resetConnection(): void;
}

/** One direction of a proxied connection; see the diagram at the top of this module. */
export class Link implements StageHost {
  private readonly stages: Stage[] = [];
  private readonly sink: ItemSink;
  private inflightBytes = 0;
  private paused = false;
  private inputDone = false;
  /** End-of-stream reached the sink, or the link was abandoned. */
  finished = false;
  private ops: Promise<void> = Promise.resolve();

  constructor(
    readonly stream: Stream,
    readonly source: Socket,
    readonly dest: Socket,
    toxics: readonly ToxicSpec[],
    private readonly host: LinkHost,
  ) {
    this.sink = { push: (item) => this.toDest(item) };
    for (const spec of toxics) this.appendStage(spec);
    for (const stage of this.stages) stage.start();
    source.on('data', (buf: Buffer) => this.onData(buf));
    source.on('end', () => this.endInput('eof'));
    dest.on('drain', () => this.resumeIfRoom());
  }

  /** Names of the toxics currently staged, in chain order (for tests and debugging). */
  get stageNames(): string[] {
    return this.stages.map((s) => s.spec.name);
  }

  /** Appends a toxic at the end of the chain. */
  addToxic(spec: ToxicSpec): Promise<void> {
    return this.serialise(async () => {
      if (this.finished) return;
      this.appendStage(spec).start();
    });
  }

  /** Replaces a toxic's settings; what it held is re-timed under the new settings. */
  updateToxic(spec: ToxicSpec): Promise<void> {
    return this.serialise(async () => {
      const stage = this.stages.find((s) => s.spec.name === spec.name);
      if (!stage) return;
      if (await stage.interrupt()) stage.update(spec);
      else stage.spec = spec;
    });
  }

  /** Removes a toxic; data it buffered goes on at once. */
  removeToxic(name: string): Promise<void> {
    return this.serialise(async () => {
      const stage = this.stages.find((s) => s.spec.name === name);
      if (!stage) return;
      const live = await stage.interrupt();
      if (live && hasCleanup(stage.spec.toxic)) stage.spec.toxic.cleanup(stage.stageIo);
      const index = this.stages.indexOf(stage);
      if (stage.finished) stage.dispose();
      else stage.flush();
      const prev = this.stages[index - 1];
      if (prev) prev.next = stage.next;
      this.stages.splice(index, 1);
      if (this.stages.length === 0) this.inflightBytes = 0;
      this.resumeIfRoom();
    });
  }

  /**
   * Stops reading the source and sends end-of-stream through the chain, so what the toxics hold
   * is still delivered before dest is ended (how Toxiproxy closes the other direction).
   */
  endInput(reason: 'eof' | 'closed'): void {
    if (this.inputDone) return;
    this.inputDone = true;
    if (reason === 'closed') this.source.pause();
    const end: Item = { kind: 'end', reason };
    const first = this.stages[0];
    if (first) first.push(end);
    else this.toDest(end);
  }

  /** Gives up on this direction (its dest is gone): stop reading, drop what is buffered. */
  abandon(): void {
    this.inputDone = true;
    this.finished = true;
    this.source.pause();
    for (const stage of this.stages) stage.dispose();
  }

  /** StageHost: bytes left the flow without reaching dest. */
  released(bytes: number): void {
    this.inflightBytes -= bytes;
    this.resumeIfRoom();
  }

  /** StageHost: a toxic resets the connection. */
  resetFromStage(): void {
    this.host.resetConnection();
  }

  private onData(buf: Buffer): void {
    if (this.inputDone) return;
    const first = this.stages[0];
    if (first === undefined) {
      if (!this.dest.write(buf)) this.pause();
      return;
    }
    this.inflightBytes += buf.length;
    first.push({ kind: 'data', data: buf, ts: performance.now() });
    if (this.heldBytes() > HIGH_WATER_BYTES) this.pause();
  }

  /**
   * Bytes the link answers for. dest's buffer counts only while dest owes a 'drain' (a write
   * returned false): otherwise it is below dest's own high-water mark and Node will not say when
   * it empties, so waiting on it could wait forever.
   */
  private heldBytes(): number {
    return this.inflightBytes + (this.dest.writableNeedDrain ? this.dest.writableLength : 0);
  }

  private toDest(item: Item): void {
    if (item.kind === 'data') {
      this.inflightBytes -= item.data.length;
      if (!this.finished && !this.dest.destroyed) this.dest.write(item.data);
      this.resumeIfRoom();
      return;
    }
    if (this.finished) return;
    this.finished = true;
    if (!this.dest.destroyed) this.dest.end();
    this.host.linkEnded(this, item.reason);
  }

  private appendStage(spec: ToxicSpec): Stage {
    const stage = new Stage(spec, this.sink, this);
    const last = this.stages.at(-1);
    if (last) last.next = stage;
    this.stages.push(stage);
    return stage;
  }

  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.source.pause();
  }

  private resumeIfRoom(): void {
    if (!this.paused || this.inputDone) return;
    if (this.heldBytes() > LOW_WATER_BYTES) return;
    this.paused = false;
    this.source.resume();
  }

  private serialise(op: () => Promise<void>): Promise<void> {
    const run = this.ops.then(op);
    this.ops = run.catch(() => undefined);
    return run;
  }

  /** The connection is gone: stop every timer. */
  dispose(): void {
    this.finished = true;
    this.inputDone = true;
    for (const stage of this.stages) stage.dispose();
  }
}
