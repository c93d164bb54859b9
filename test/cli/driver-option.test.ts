import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { prepare } from '../../src/cli/run-command.ts';
import { referenceDriver } from '../../src/drivers/reference.ts';
import { ExitCode, InvalidDriverError, UsageError, exitCodeFor } from '../../src/errors.ts';
import { loadDriver } from '../../src/drivers/load.ts';

/** A minimal valid scenario as a plain object (temp dirs cannot resolve the package name). */
const SCENARIO = {
  name: 'tiny',
  duration: '1s',
  networks: { n: {} },
  population: { agents: { count: 1, devices: ['desktop'], network: 'n' }, customers: { count: 1, devices: ['mobile'], network: 'n' } },
};

const DRIVER_SOURCE =
  "export default { contract: 2, name: 'mine', capabilities: { ordering: 'none', serverIds: 'none', kinds: ['text', 'emoji', 'long-text'], attachments: false, " +
  "historyPages: false, unreadCounts: false, readMarkers: false, groups: true, clientIds: false, resumption: false }, " +
  "limits: { maxBodyBytes: 65536, maxAttachmentBytes: 0, maxAttachmentsPerMessage: 0 }, async provision() {}, async connect() { throw new Error('not here'); } };\n";

describe('choosing the driver (--driver and scenario `driver:`)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'chatstorm-driver-option-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function rejection(p: Promise<unknown>): Promise<Error> {
    const err = await p.then(
      () => null,
      (e: unknown) => e as Error,
    );
    if (err === null) throw new Error('expected a rejection');
    return err;
  }

  it('uses the reference driver by default and by name, without a target', async () => {
    expect((await prepare({ scenario: SCENARIO })).driver).toBe(referenceDriver);
    expect((await prepare({ scenario: SCENARIO, driver: 'reference' })).driver).toBe(referenceDriver);
  });

  it('loads a driver module by path, and needs --target for it', async () => {
    await writeFile(join(dir, 'mine.mjs'), DRIVER_SOURCE);
    const driverPath = join(dir, 'mine.mjs');
    const ok = await prepare({ scenario: SCENARIO, driver: driverPath, target: 'ws://127.0.0.1:9' });
    expect(ok.driver.name).toBe('mine');
    const err = await rejection(prepare({ scenario: SCENARIO, driver: driverPath }));
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).code).toBe('CHATSTORM_ERR_USAGE');
    expect(err.message).toContain(`--driver ${driverPath} needs --target`);
    expect(exitCodeFor(err)).toBe(ExitCode.usage);
  });

  it('resolves the scenario field `driver` relative to the scenario file, not the working directory', async () => {
    await mkdir(join(dir, 'load'));
    await writeFile(join(dir, 'load', 'mine.mjs'), DRIVER_SOURCE);
    await writeFile(join(dir, 'load', 'scenario.mjs'), `export default ${JSON.stringify({ ...SCENARIO, driver: './mine.mjs' })};\n`);
    const r = await prepare({ scenario: join(dir, 'load', 'scenario.mjs'), target: 'ws://127.0.0.1:9' });
    expect(r.driver.name).toBe('mine');
    // --driver wins over the scenario's field.
    const over = await prepare({ scenario: join(dir, 'load', 'scenario.mjs'), driver: 'reference' });
    expect(over.driver).toBe(referenceDriver);
  });

  it.each([
    ['a missing file', null, './nope.mjs', 'the driver module does not exist'],
    ['a module that throws while loading', `throw new Error('boom at load');\n`, './throws.mjs', 'could not be loaded: boom at load'],
    ['a module without a default or `driver` export', `export const other = 1;\n`, './none.mjs', 'no default export and no export named `driver`'],
    ['a default export without the methods', `export default { name: 'x', provision() {} };\n`, './half.mjs', '`connect` must be a function, got undefined'],
    ['a default export that is not an object', `export default 42;\n`, './num.mjs', 'the export is number, not a driver object'],
    ['a driver of another contract', `export default { contract: 1, name: 'old', capabilities: {}, limits: {}, provision() {}, connect() {} };\n`, './old.mjs', '`contract` must be 2'],
  ])('refuses %s with exit 2, naming the file and what was expected', async (_what, source, spec, message) => {
    if (source !== null) await writeFile(join(dir, spec), source);
    const err = await rejection(loadDriver(spec, { baseDir: dir }));
    expect(err).toBeInstanceOf(InvalidDriverError);
    expect((err as InvalidDriverError).code).toBe('CHATSTORM_ERR_INVALID_DRIVER');
    expect(err.message).toContain(`--driver ${spec}`);
    expect(err.message).toContain(message);
    expect(exitCodeFor(err)).toBe(ExitCode.usage);
  });

  it('refuses an unknown built-in driver name, listing the built-in ones', async () => {
    const err = await rejection(prepare({ scenario: SCENARIO, driver: 'xmppp' }));
    expect(err).toBeInstanceOf(InvalidDriverError);
    expect(err.message).toBe(
      '--driver "xmppp": no built-in driver of that name (built-in: reference, xmpp); a driver module is named by its path, e.g. ./my-driver.ts',
    );
  });

  it('names the scenario field when the scenario names a bad driver', async () => {
    await writeFile(join(dir, 'scenario.mjs'), `export default ${JSON.stringify({ ...SCENARIO, driver: './gone.ts' })};\n`);
    const err = await rejection(prepare({ scenario: join(dir, 'scenario.mjs'), target: 'ws://127.0.0.1:9' }));
    expect(err).toBeInstanceOf(InvalidDriverError);
    expect(err.message).toContain('scenario field `driver` ./gone.ts: the driver module does not exist');
  });
});
