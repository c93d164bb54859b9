/**
 * One round of a paired CPU benchmark (bench/cpu-per-message.ts, bench/xmpp-cpu-per-message.ts):
 * the bare client and the harness, and with `--control` the bare client once more; the order is
 * reversed in even rounds, so neither side always goes first.
 */
export type Side = 'bare' | 'harness' | 'bare again';

export interface RoundResult<M> {
  /** The bare run next to the harness run: the one the round's ratio uses. */
  bare?: M;
  harness?: M;
  /** With the control: the later bare run ÷ the earlier, µs per delivery (the method's own noise). */
  controlRatio?: number;
}

/** `play` measures one side (null: skipped, as with `--only`). */
export async function pairedRound<M extends { usPerDelivery: number }>(
  round: number,
  control: boolean,
  play: (mode: 'bare' | 'harness', side: Side) => Promise<M | null>,
): Promise<RoundResult<M>> {
  const out: RoundResult<M> = {};
  const order: Side[] = ['bare', 'harness', ...(control ? (['bare again'] as const) : [])];
  for (const side of round % 2 === 1 ? order : [...order].reverse()) {
    const mode = side === 'bare again' ? 'bare' : side;
    const m = await play(mode, side);
    if (m === null) continue;
    if (mode === 'bare' && out.bare) {
      out.controlRatio = m.usPerDelivery / out.bare.usPerDelivery;
      if (side === 'bare') out.bare = m;
    } else out[mode] = m;
  }
  return out;
}
