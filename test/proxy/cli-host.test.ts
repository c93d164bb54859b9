import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.ts';
import { runProxyCli } from '../../src/proxy/index.ts';

describe('chatstorm proxy --host', () => {
  it.each(['0.0.0.0', '::', '10.0.0.7'])('refuses %s before listening: the API has no authentication', async (host) => {
    const err = await runProxyCli({ host, port: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).code).toBe('CHATSTORM_ERR_USAGE');
    expect((err as Error).message).toContain(`chatstorm proxy --host ${host}: the Toxiproxy API has no authentication`);
  });
});
