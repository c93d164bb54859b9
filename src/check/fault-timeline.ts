/**
 * Fault phases over time, folded from `fault` events: `fault` while any fault is active,
 * `recovery` for {@link RECOVERY_WINDOW_MS} after the last one ended, `steady` otherwise.
 * Past phases stay answerable because a send's intended time precedes the event that reports it.
 */
import type { FaultEvent, HistoryEvent } from '../history/events.ts';

export type FaultPhase = 'steady' | 'fault' | 'recovery';

/** How long after a fault ends deliveries still count as `recovery` (10 s). */
export const RECOVERY_WINDOW_MS = 10_000;

/** Fault intervals kept; a timeline has few entries, this bounds a pathological one. */
const MAX_INTERVALS = 256;

interface Interval {
  start: FaultEvent;
  end?: FaultEvent;
}

/** The fault timeline as observed so far. */
export class FaultTimeline {
  private readonly intervals: Interval[] = [];
  private readonly open = new Map<string, Interval>();

  step(e: HistoryEvent): boolean {
    if (e.type !== 'fault') return false;
    if (e.phase === 'start') {
      const iv: Interval = { start: e };
      this.intervals.push(iv);
      this.open.set(e.fault, iv);
      if (this.intervals.length > MAX_INTERVALS) this.intervals.shift();
    } else {
      const iv = this.open.get(e.fault);
      if (iv !== undefined) {
        iv.end = e;
        this.open.delete(e.fault);
      }
    }
    return true;
  }

  /** Start events of the faults active at `atMs`. */
  activeAt(atMs: number): FaultEvent[] {
    const out: FaultEvent[] = [];
    for (const iv of this.intervals) {
      if (iv.start.atMs <= atMs && (iv.end === undefined || iv.end.atMs > atMs)) out.push(iv.start);
    }
    return out;
  }

  /** Fault events (start and end) of intervals overlapping [fromMs, toMs], for witness trails. */
  eventsOverlapping(fromMs: number, toMs: number): FaultEvent[] {
    const out: FaultEvent[] = [];
    for (const iv of this.intervals) {
      const endMs = iv.end?.atMs ?? Infinity;
      if (iv.start.atMs <= toMs && endMs >= fromMs) {
        out.push(iv.start);
        if (iv.end !== undefined) out.push(iv.end);
      }
    }
    return out;
  }

  /**
   * For a stretch [fromMs, toMs] on `network`: the time from which no fault of that network was
   * active (`fromMs`, or the end of the last fault overlapping the stretch), or undefined when
   * one is still active at `toMs`.
   */
  quietSince(network: string, fromMs: number, toMs: number): number | undefined {
    let quiet = fromMs;
    for (const iv of this.intervals) {
      if (iv.start.network !== network || iv.start.atMs > toMs) continue;
      if (iv.end === undefined || iv.end.atMs > toMs) return undefined;
      if (iv.end.atMs > quiet) quiet = iv.end.atMs;
    }
    return quiet;
  }

  phaseAt(atMs: number): FaultPhase {
    let lastEnd = -Infinity;
    for (const iv of this.intervals) {
      if (iv.start.atMs > atMs) continue;
      if (iv.end === undefined || iv.end.atMs > atMs) return 'fault';
      if (iv.end.atMs > lastEnd) lastEnd = iv.end.atMs;
    }
    return atMs - lastEnd <= RECOVERY_WINDOW_MS ? 'recovery' : 'steady';
  }

  retained(): number {
    return this.intervals.length + this.open.size;
  }
}
