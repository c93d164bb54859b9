/** bench/lib/paired-round.ts: the order of the sides by round, which bare run pairs with the harness, the control ratio. */
import { describe, expect, it } from 'vitest';
import { pairedRound, type Side } from '../../bench/lib/paired-round.ts';

const us: Record<Side, number> = { bare: 40, harness: 60, 'bare again': 44 };
const playRound = async (round: number, control: boolean, skip?: 'bare' | 'harness') => {
  const played: Side[] = [];
  const r = await pairedRound(round, control, async (mode, side) => {
    if (mode === skip) return null;
    played.push(side);
    return { usPerDelivery: us[side] };
  });
  return { played, r };
};

describe('pairedRound', () => {
  it('plays bare then harness in odd rounds, harness then bare in even ones', async () => {
    expect((await playRound(1, false)).played).toEqual(['bare', 'harness']);
    const even = await playRound(2, false);
    expect(even.played).toEqual(['harness', 'bare']);
    expect(even.r).toEqual({ bare: { usPerDelivery: 40 }, harness: { usPerDelivery: 60 } });
  });

  it('with the control pairs the harness with the bare run next to it and divides the later bare run by the earlier', async () => {
    const odd = await playRound(1, true);
    expect(odd.played).toEqual(['bare', 'harness', 'bare again']);
    expect(odd.r.bare).toEqual({ usPerDelivery: 40 });
    expect(odd.r.controlRatio).toBeCloseTo(44 / 40);
    const even = await playRound(2, true);
    expect(even.played).toEqual(['bare again', 'harness', 'bare']);
    expect(even.r.bare).toEqual({ usPerDelivery: 40 });
    expect(even.r.controlRatio).toBeCloseTo(40 / 44);
  });

  it('leaves out a skipped side', async () => {
    const { played, r } = await playRound(1, false, 'bare');
    expect(played).toEqual(['harness']);
    expect(r).toEqual({ harness: { usPerDelivery: 60 } });
  });
});
