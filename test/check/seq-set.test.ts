import { describe, expect, it } from 'vitest';
import { SeqSet } from '../../src/check/seq-set.ts';

describe('SeqSet', () => {
  it('keeps dense seqs as one interval', () => {
    const s = new SeqSet();
    for (let i = 1; i <= 10_000; i++) s.add(i);
    expect(s.intervals).toBe(1);
    expect(s.has(5000)).toBe(true);
    expect(s.has(10_001)).toBe(false);
  });

  it('agrees with a plain Set under random insertion order', () => {
    let x = 12345;
    const rand = () => ((x = (x * 1103515245 + 12345) % 2147483648), x / 2147483648);
    const s = new SeqSet();
    const ref = new Set<number>();
    for (let i = 0; i < 3000; i++) {
      const v = Math.floor(rand() * 1000);
      s.add(v);
      ref.add(v);
    }
    for (let v = -1; v <= 1001; v++) expect(s.has(v)).toBe(ref.has(v));
    expect([...s.range(100, 200)]).toEqual([...ref].filter((v) => v >= 100 && v <= 200).sort((a, b) => a - b));
  });
});
