import { INTERRUPTED, MAX_TIMER_MS, type Attributes, type StageIo, type StatefulToxic } from './toxic.ts';

/**
 * Packet loss as a TCP stream sees it — a chatstorm extension, no Toxiproxy has it.
 *
 * Over TCP a lost segment is not lost data but a stall: the receiver's application sees nothing
 * past the hole until the retransmission arrives, at least one retransmission timeout (RTO)
 * later, the RTO doubling while retransmissions are lost too (RFC 6298 §5.5). Everything behind
 * the hole waits with it (head-of-line blocking). So this toxic never drops or reorders a byte:
 *
 *   stream:  | seg 1 | seg 2 | seg 3 | seg 4 | ...      (segment_size bytes each)
 *   attempt:   ok      lost    lost    ok              (one draw per transmission attempt)
 *                      └─ RTO ─┴─ 2·RTO ─┘ then seg 2, seg 3, ... go on together
 *
 * Each transmission attempt (first send or retransmission) is lost with long-run probability
 * `probability_ppm` / 10^6. With `burst` > 1 losses come in runs (a two-state Gilbert chain):
 * after a loss the next attempt is lost again with probability 1 − 1/burst, so runs last `burst`
 * attempts on average, and the entry probability is set so the long-run rate stays as given.
 * A stall starts when the segment reaches this stage, or when the previous stall ended (one
 * retransmission timer per connection); the RTO starts at `min_rto` again after a delivery.
 *
 * Not modelled: the congestion window (TCP also slows down after a loss, see docs/proxy.md for
 * how this compares with the Mathis et al. throughput model), fast retransmit, reordering.
 */

/** Per-connection state, kept across updates of the toxic. */
interface LossState {
  /** Bytes of the current segment already passed on (0: the next byte starts a segment). */
  offsetInSegment: number;
  /** Whether the Gilbert chain is in its lossy state. */
  bad: boolean;
  /** When the last stall ended (ms, performance.now()). */
  releasedAtMs: number;
}

/** Settings of the `loss` toxic with defaults applied. */
interface LossSettings {
  probability: number;
  segmentBytes: number;
  minRtoMs: number;
  maxRtoMs: number;
  burst: number;
}

/** Defaults, used when an attribute is 0 (missing attributes are 0, as in Toxiproxy). */
export const LOSS_DEFAULTS = { segmentBytes: 1460, minRtoMs: 200, maxRtoMs: 60_000 } as const;

/** Options of {@link createLoss}. */
export interface LossOptions {
  /** Uniform random source in [0, 1) (default Math.random); tests pass a scripted one. */
  random?: () => number;
}

/**
 * Makes the `loss` toxic type. The registry holds one made with Math.random; a test registers
 * its own (`registerToxic(createLoss({ random }))`) to script which attempts are lost.
 */
export function createLoss(options: LossOptions = {}): StatefulToxic {
  const random = options.random ?? Math.random;
  return {
    type: 'loss',
    attributes: [
      { name: 'probability_ppm', unit: 'parts per million', min: 0, max: 1_000_000 },
      { name: 'segment_size', unit: `bytes, 0 = ${LOSS_DEFAULTS.segmentBytes}`, min: 0 },
      { name: 'min_rto', unit: `ms, 0 = ${LOSS_DEFAULTS.minRtoMs}`, min: 0, max: MAX_TIMER_MS },
      { name: 'max_rto', unit: `ms, 0 = ${LOSS_DEFAULTS.maxRtoMs} (or min_rto if larger)`, min: 0, max: MAX_TIMER_MS },
      { name: 'burst', unit: 'segments, mean run of losses; 0 or 1 = independent', min: 0 },
    ],
    check(attrs: Attributes): string | undefined {
      const s = lossSettings(attrs);
      if (s.maxRtoMs < s.minRtoMs) {
        return `toxic attribute \`max_rto\` must be at least \`min_rto\` (ms), got ${s.maxRtoMs} with min_rto ${s.minRtoMs}`;
      }
      return undefined;
    },
    newState(): LossState {
      return { offsetInSegment: 0, bad: false, releasedAtMs: 0 };
    },
    async pipe(io: StageIo, attrs: Attributes): Promise<void> {
      const s = lossSettings(attrs);
      const state = io.state as LossState;
      /** One transmission attempt: true when it is lost. */
      const lost = (): boolean => {
        if (s.probability >= 1) return true;
        if (s.burst <= 1) return random() < s.probability;
        const exit = 1 / s.burst;
        const enter = Math.min(1, (s.probability * exit) / (1 - s.probability));
        state.bad = state.bad ? random() >= exit : random() < enter;
        return state.bad;
      };
      for (;;) {
        const item = await io.read();
        if (item === INTERRUPTED) return;
        if (typeof item === 'symbol') continue;
        if (item.kind === 'end') return io.end(item);
        // Walk the chunk segment by segment; bytes that need no stall go on as one write.
        let from = 0;
        let at = 0;
        while (at < item.data.length) {
          if (state.offsetInSegment === 0 && s.probability > 0 && lost()) {
            if (at > from) io.write({ kind: 'data', data: item.data.subarray(from, at), ts: item.ts });
            from = at;
            let rtoMs = s.minRtoMs;
            let dueMs = Math.max(item.ts, state.releasedAtMs) + rtoMs;
            for (;;) {
              const waitMs = dueMs - performance.now();
              if (waitMs > 0 && (await io.sleep(waitMs)) === INTERRUPTED) {
                // Whatever runs next decides this segment afresh; no byte is lost or reordered.
                io.unread({ kind: 'data', data: item.data.subarray(from), ts: item.ts });
                return;
              }
              if (!lost()) break;
              rtoMs = Math.min(rtoMs * 2, s.maxRtoMs); // RFC 6298 §5.5: back off the timer
              dueMs += rtoMs;
            }
            state.releasedAtMs = performance.now();
            item.ts = state.releasedAtMs;
          }
          const step = Math.min(s.segmentBytes - state.offsetInSegment, item.data.length - at);
          at += step;
          state.offsetInSegment = (state.offsetInSegment + step) % s.segmentBytes;
        }
        if (at > from) io.write({ kind: 'data', data: item.data.subarray(from), ts: item.ts });
      }
    },
  };
}

function lossSettings(attrs: Attributes): LossSettings {
  const minRtoMs = attrs['min_rto'] || LOSS_DEFAULTS.minRtoMs;
  return {
    probability: (attrs['probability_ppm'] ?? 0) / 1_000_000,
    segmentBytes: attrs['segment_size'] || LOSS_DEFAULTS.segmentBytes,
    minRtoMs,
    maxRtoMs: attrs['max_rto'] || Math.max(LOSS_DEFAULTS.maxRtoMs, minRtoMs),
    burst: attrs['burst'] ?? 0,
  };
}

/** The `loss` toxic as registered (Math.random). */
export const loss: StatefulToxic = createLoss();
