import { describe, expect, it } from 'vitest';
import { counterOf, messageKey, parseMessageKey } from '../../src/domain/index.ts';

describe('message key', () => {
  it('builds `<device>#<n>` and parses it back', () => {
    expect(messageKey('cu12-d1', 7)).toBe('cu12-d1#7');
    expect(parseMessageKey('cu12-d1#7')).toEqual({ device: 'cu12-d1', counter: 7 });
    expect(counterOf(messageKey('ag1-d2', 1234))).toBe(1234);
  });

  it('takes the counter after the last `#`, so a device id may contain `#`', () => {
    expect(parseMessageKey(messageKey('team#3/d1', 2))).toEqual({ device: 'team#3/d1', counter: 2 });
  });

  it('refuses keys without a device or a number after the `#`', () => {
    for (const bad of ['', 'abc', '#5', 'a1#', 'a1#x', 'a1#1.5', 'a1#-1', 'a1# 2']) {
      expect([bad, parseMessageKey(bad)]).toEqual([bad, null]);
      expect(counterOf(bad)).toBeNaN();
    }
  });
});
