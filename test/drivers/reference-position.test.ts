import { describe, expect, it } from 'vitest';
import { ReferenceDeviceState } from '../../src/drivers/reference.ts';

describe('ReferenceDeviceState positions', () => {
  it('syncs each conversation from the highest seq seen, and has none for a conversation never seen', () => {
    const s = new ReferenceDeviceState();
    expect(s.seen('a', 1)).toBe(true);
    expect(s.seen('b', 4)).toBe(true);
    expect(s.seen('a', 3)).toBe(true);
    // An older seq (a replay, or an ack after a later delivery) does not move the cursor back.
    expect(s.seen('a', 2)).toBe(false);
    expect(['a', 'b', 'c'].map((c) => s.syncFrom(c))).toEqual([3, 4, undefined]);
  });

  it('caps a conversation below its lowest held message until it is released', () => {
    const s = new ReferenceDeviceState();
    s.seen('a', 1);
    s.hold('a', 3);
    s.seen('a', 4);
    expect(s.syncFrom('a')).toBe(2);
    s.hold('a', 5);
    expect(s.syncFrom('a')).toBe(2);
    // Held before any cursor: sync from just below it.
    s.hold('b', 1);
    expect(s.syncFrom('b')).toBe(0);
    expect(s.release('a', 3)).toBe(true);
    expect(s.release('a', 3)).toBe(false);
    expect(s.syncFrom('a')).toBe(4);
    expect(s.release('a', 5)).toBe(true);
    s.seen('a', 5);
    expect(s.syncFrom('a')).toBe(5);
    expect(s.syncFrom('b')).toBe(0);
  });
});
