import { describe, expect, it } from 'vitest';
import { checkTarget } from '../../src/net/target.ts';
import { UsageError } from '../../src/errors.ts';

describe('checkTarget', () => {
  it('accepts a ws:// URL and returns it parsed', () => {
    expect(checkTarget('ws://127.0.0.1:7420').port).toBe('7420');
  });

  it.each([
    ['notaurl', '--target must be a URL'],
    ['wss://127.0.0.1:1', 'wss:// is not supported yet'],
    ['http://127.0.0.1:1', '--target must be a ws://HOST:PORT URL'],
  ])('rejects %s with a usage error', (target, message) => {
    expect(() => checkTarget(target)).toThrow(UsageError);
    expect(() => checkTarget(target)).toThrow(message);
  });
});
