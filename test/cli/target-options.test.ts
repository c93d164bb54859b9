import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepare } from '../../src/cli/run-command.ts';
import { ExitCode, UsageError, exitCodeFor } from '../../src/errors.ts';

const SCENARIO = {
  name: 'tiny',
  duration: '1s',
  networks: { n: {} },
  population: { agents: { count: 1, devices: ['desktop'], network: 'n' }, customers: { count: 1, devices: ['mobile'], network: 'n' } },
};

describe('target options (--target, --http-target, --ca, --insecure)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'chatstorm-target-options-'));
    await writeFile(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function usage(o: Parameters<typeof prepare>[0]): Promise<UsageError> {
    const err = await prepare(o).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UsageError);
    expect(exitCodeFor(err)).toBe(ExitCode.usage);
    return err as UsageError;
  }

  it('accepts a wss:// target with --ca, and reads the CA once', async () => {
    const r = await prepare({ scenario: SCENARIO, target: 'wss://chat.example.com/ws?x=1', ca: join(dir, 'ca.pem') });
    expect(r.trust.ca).toContain('BEGIN CERTIFICATE');
  });

  it('refuses --ca or --insecure for a plain ws:// target or the built-in server', async () => {
    expect((await usage({ scenario: SCENARIO, target: 'ws://127.0.0.1:1', insecure: true })).message).toBe(
      '--insecure applies to a wss:// --target (or an https:// --http-target), got ws://127.0.0.1:1/',
    );
    expect((await usage({ scenario: SCENARIO, ca: join(dir, 'ca.pem') })).message).toBe(
      '--ca applies to a wss:// --target (or an https:// --http-target); the built-in server speaks plain ws://',
    );
  });

  it('refuses a CA file that cannot be read, and --http-target without --target', async () => {
    expect((await usage({ scenario: SCENARIO, target: 'wss://h/', ca: join(dir, 'missing.pem') })).message).toContain('--ca');
    expect((await usage({ scenario: SCENARIO, httpTarget: 'https://api.example.com/' })).message).toBe(
      '--http-target needs --target: the built-in server is reached by its own address',
    );
  });
});
