/**
 * The one interface every toxic implements, and the small optional abilities some add.
 *
 * A toxic is a *type* (stateless, registered by name) plus per-toxic attributes. For each live
 * connection and direction the link runs the toxic's `pipe()` inside a stage: `pipe()` reads items
 * from the stage's input queue and writes them on, delayed, sliced, dropped or closed as it likes.
 *
 * Contract of `pipe()` (matches Toxiproxy's `Pipe(*ToxicStub)`):
 *  - return when `read()`/`sleep()` answer {@link INTERRUPTED} (the toxic is being updated or
 *    removed); any item the toxic still holds must first be given back with `io.unread()`, so no
 *    byte is ever lost or reordered;
 *  - on an end-of-stream item, pass it on with `io.end(item)` (possibly later) and return;
 *  - `io.close()` ends the connection from inside the stage (timeout, limit_data).
 */

/** A piece of stream data with the time (performance.now(), ms) it is due at this stage. */
export interface Chunk {
  readonly kind: 'data';
  data: Buffer;
  /** Arrival time at the proxy, advanced by each latency stage; drives latency arithmetic. */
  ts: number;
}

/** End of one direction: `eof` is a FIN from the source; `closed` is a close decided inside the proxy. */
export interface End {
  readonly kind: 'end';
  readonly reason: 'eof' | 'closed';
}

/** What flows between stages. */
export type Item = Chunk | End;

/** Answer of `read()`/`sleep()` when the stage is interrupted. */
export const INTERRUPTED = Symbol('interrupted');
/** Answer of `read(timeoutMs)` when nothing arrived in time. */
export const TIMED_OUT = Symbol('timed-out');

/** What a toxic sees of its stage. */
export interface StageIo {
  /** Next item; {@link TIMED_OUT} after `timeoutMs` (if given and > 0) with no item. */
  read(timeoutMs?: number): Promise<Item | typeof INTERRUPTED | typeof TIMED_OUT>;
  /** Waits `ms`; resolves `true` when the time passed, {@link INTERRUPTED} when interrupted first. */
  sleep(ms: number): Promise<true | typeof INTERRUPTED>;
  /** Passes a chunk to the next stage. */
  write(chunk: Chunk): void;
  /** Puts an item back at the head of this stage's input (used on interrupt). */
  unread(item: Item): void;
  /** Discards `bytes` of data (timeout, limit_data): releases them from flow control. */
  drop(bytes: number): void;
  /** Passes end-of-stream on and finishes this stage. */
  end(item: End): void;
  /** Ends the connection from this stage: data already written is delivered, then FIN. */
  close(): void;
  /** Aborts the whole connection with a TCP RST on both sockets. */
  reset(): void;
  /** Per-connection state of a {@link StatefulToxic}, else `undefined`. */
  readonly state: unknown;
}

/** One attribute of a toxic: a JSON integer with a unit and a valid range. */
export interface AttributeSpec {
  readonly name: string;
  /** Unit named in messages and docs, e.g. `ms`, `KB/s`, `bytes`, `µs`. */
  readonly unit: string;
  /**
   * Smallest value accepted: what Toxiproxy survives. Negative delays and limits are accepted
   * (Toxiproxy treats them as 0, or as "hold forever" for `timeout`); a toxic's `pipe()` must
   * give them the same effect.
   */
  readonly min: number;
  /** Largest valid value; defaults to Number.MAX_SAFE_INTEGER. */
  readonly max?: number;
}

/** Attribute values, by name. Missing attributes are 0, as in Toxiproxy. */
export type Attributes = Readonly<Record<string, number>>;

/** A toxic type: the one interface behind which every toxic sits. */
export interface Toxic {
  /** Type name used in the API, e.g. `latency`. */
  readonly type: string;
  /** Attributes in the order Toxiproxy prints them. */
  readonly attributes: readonly AttributeSpec[];
  /** Cross-attribute checks beyond each attribute's range; returns a message or undefined. */
  check?(attrs: Attributes): string | undefined;
  /** Runs the toxic on one stage until interrupted or the stream ends. */
  pipe(io: StageIo, attrs: Attributes): Promise<void>;
}

/** Ability: keeps per-connection state across updates of the toxic (limit_data's byte count). */
export interface StatefulToxic extends Toxic {
  newState(): unknown;
}

/** Ability: acts when the toxic is removed from a live connection (timeout closes it). */
export interface CleanupToxic extends Toxic {
  cleanup(io: StageIo): void;
}

/** Whether a toxic keeps per-connection state. */
export function isStateful(toxic: Toxic): toxic is StatefulToxic {
  return typeof (toxic as Partial<StatefulToxic>).newState === 'function';
}

/** Whether a toxic acts on removal. */
export function hasCleanup(toxic: Toxic): toxic is CleanupToxic {
  return typeof (toxic as Partial<CleanupToxic>).cleanup === 'function';
}

/** Largest timer Node honours (setTimeout overflows above 2^31-1 ms). */
export const MAX_TIMER_MS = 2_147_483_647;
