import { describe, expect, it } from 'vitest';
import { InvalidServerOptionsError, runServeCli } from '../../src/server/index.ts';

describe('runServeCli option checks', () => {
  it.each(['conv=x,count=0', 'conv=x', 'x:abc', 'count=5'])('refuses the preload spec %j before starting, naming the accepted forms', async (spec) => {
    const err = await runServeCli({ port: 0, store: 'memory', preload: spec }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidServerOptionsError);
    expect((err as InvalidServerOptionsError).code).toBe('CHATSTORM_ERR_SERVER_OPTIONS');
    expect((err as Error).message).toContain('conv=ID,count=N');
  });
});
