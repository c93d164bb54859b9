import { describe, expect, it } from 'vitest';
import { ReferenceDeviceState, type CursorPosition } from '../../src/drivers/reference.ts';

const read = (p: CursorPosition, convs: string[]) => Object.fromEntries(convs.map((c) => [c, p.get(c)]));

describe('ReferenceDeviceState positions', () => {
  it('gives a snapshot that later moves do not change', () => {
    const s = new ReferenceDeviceState();
    s.seen('a', 1);
    s.seen('b', 4);
    const first = s.snapshot();
    s.seen('a', 2);
    const second = s.snapshot('a');
    expect(read(first, ['a', 'b', 'c'])).toEqual({ a: 1, b: 4, c: undefined });
    expect(read(second, ['a', 'b', 'c'])).toEqual({ a: 2, b: 4, c: undefined });
  });

  it('keeps every cursor through many moves, across the folding of its links', () => {
    const s = new ReferenceDeviceState();
    const convs = ['a', 'b', 'c'];
    const taken: { p: CursorPosition; want: Record<string, number | undefined> }[] = [];
    const want: Record<string, number | undefined> = { a: undefined, b: undefined, c: undefined };
    for (let i = 1; i <= 100; i++) {
      const conv = convs[i % 3]!;
      s.seen(conv, i);
      want[conv] = i;
      taken.push({ p: s.snapshot(conv), want: { ...want } });
    }
    for (const t of taken) expect(read(t.p, convs)).toEqual(t.want);
    expect(taken.at(-1)!.p.links).toBeLessThanOrEqual(2 * convs.length + 8);
  });

  it('caps a conversation below its lowest held message until it is released', () => {
    const s = new ReferenceDeviceState();
    s.seen('a', 1);
    s.hold('a', 3);
    s.seen('a', 4);
    expect(s.snapshot('a').get('a')).toBe(2);
    s.hold('b', 1);
    expect(s.snapshot('b').get('b')).toBe(0);
    s.release('a', 3);
    s.seen('a', 3);
    expect(s.snapshot('a').get('a')).toBe(4);
    expect(s.snapshot().get('b')).toBe(0);
  });
});
