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

  it('adds a whole range as one interval, merged with the intervals it touches', () => {
    const s = new SeqSet();
    s.add(1);
    s.add(20);
    s.add(40);
    s.addRange(3, 19);
    expect(s.intervals).toBe(3);
    s.addRange(2, 2);
    expect(s.intervals).toBe(2);
    expect([...s.range(1, 21)]).toEqual([...Array.from({ length: 20 }, (_, i) => i + 1)]);
    s.addRange(100, 300_099);
    expect(s.intervals).toBe(3);
    expect(s.countIn(0, 1_000_000)).toBe(20 + 1 + 300_000);
    expect(s.countIn(35, 150)).toBe(52);
  });

  it('agrees with a plain Set when ranges and single seqs are mixed', () => {
    let x = 777;
    const rand = () => ((x = (x * 1103515245 + 12345) % 2147483648), x / 2147483648);
    const s = new SeqSet();
    const ref = new Set<number>();
    for (let i = 0; i < 300; i++) {
      const a = Math.floor(rand() * 1000);
      const b = a + Math.floor(rand() * 8);
      if (rand() < 0.5) s.addRange(a, b);
      else for (let v = a; v <= b; v++) s.add(v);
      for (let v = a; v <= b; v++) ref.add(v);
    }
    for (let v = -1; v <= 1010; v++) expect(s.has(v)).toBe(ref.has(v));
    expect(s.countIn(200, 700)).toBe([...ref].filter((v) => v >= 200 && v <= 700).length);
  });

  it('lists the runs of a range that are not members', () => {
    const s = new SeqSet();
    s.addRange(1, 4);
    s.addRange(9, 12);
    expect(s.gapsIn(1, 100, 10)).toEqual([[5, 8], [13, 100]]);
    expect(s.gapsIn(0, 10, 10)).toEqual([[0, 0], [5, 8]]);
    expect(s.gapsIn(2, 3, 10)).toEqual([]);
    expect(s.gapsIn(1, 100, 1)).toEqual([[5, 8]]);
    expect(new SeqSet().gapsIn(3, 7, 5)).toEqual([[3, 7]]);
  });
});
