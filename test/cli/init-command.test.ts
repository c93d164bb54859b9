import { mkdtemp, readFile, rm, symlink, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { initProject } from '../../src/cli/init-command.ts';
import { prepare } from '../../src/cli/run-command.ts';
import { loadScenario } from '../../src/scenario/load.ts';
import { UsageError } from '../../src/errors.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

describe('chatstorm init', () => {
  let dir: string;
  beforeEach(async () => {
    // A user's project outside this repository, with chatstorm "installed" (linked) in it.
    dir = await mkdtemp(join(tmpdir(), 'chatstorm-init-'));
    await mkdir(join(dir, 'node_modules'));
    await symlink(REPO, join(dir, 'node_modules', 'chatstorm'), 'dir');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('scaffolds a scenario that loads and validates, naming a driver that loads, and a new package.json', async () => {
    const r = await initProject({ dir });
    expect(r.created).toEqual(['chatstorm/scenario.ts', 'chatstorm/driver.ts']);
    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(pkg.type).toBe('module');
    expect(pkg.scripts).toEqual({
      chatstorm: 'chatstorm run chatstorm/scenario.ts --target ws://127.0.0.1:7420',
      'chatstorm:serve': 'chatstorm serve --port 7420',
    });
    const { scenario } = await loadScenario(join(dir, r.scenario));
    expect(scenario.name).toBe('smoke');
    expect(scenario.driver).toBe('./driver.ts');
    const prepared = await prepare({ scenario: join(dir, r.scenario), target: 'ws://127.0.0.1:7420' });
    expect(prepared.driver.name).toBe('my-chat');
    expect(prepared.plan.accounts.length).toBe(23);
  });

  it('merges its scripts into an existing package.json without clobbering, and uses .mts when the project is CommonJS', async () => {
    const original = { name: 'shop-chat', version: '1.2.3', scripts: { test: 'jest', chatstorm: 'my own' }, dependencies: { left: '^1.0.0' } };
    await writeFile(join(dir, 'package.json'), JSON.stringify(original, null, 4) + '\n');
    const r = await initProject({ dir });
    expect(r.created).toEqual(['chatstorm/scenario.mts', 'chatstorm/driver.mts']);
    expect(r.scripts).toEqual(['chatstorm:serve']);
    expect(r.keptScripts).toEqual(['chatstorm']);
    const text = await readFile(join(dir, 'package.json'), 'utf8');
    expect(text).toMatch(/^\{\n {4}"name": "shop-chat"/);
    expect(JSON.parse(text)).toEqual({ ...original, scripts: { ...original.scripts, 'chatstorm:serve': 'chatstorm serve --port 7420' } });
    const { scenario } = await loadScenario(join(dir, 'chatstorm/scenario.mts'));
    expect(scenario.driver).toBe('./driver.mts');
  });

  it('refuses to overwrite scaffold files without --force, and writes nothing then', async () => {
    await initProject({ dir });
    await writeFile(join(dir, 'chatstorm', 'driver.ts'), '// mine\n');
    const err = await initProject({ dir }).then(
      () => null,
      (e: unknown) => e as UsageError,
    );
    expect(err).toBeInstanceOf(UsageError);
    expect(err?.code).toBe('CHATSTORM_ERR_USAGE');
    expect(err?.message).toBe(`chatstorm init would overwrite chatstorm/scenario.ts and chatstorm/driver.ts in ${dir}; move them away or pass --force`);
    expect(await readFile(join(dir, 'chatstorm', 'driver.ts'), 'utf8')).toBe('// mine\n');
    await initProject({ dir, force: true });
    expect(await readFile(join(dir, 'chatstorm', 'driver.ts'), 'utf8')).toContain('defineDriver');
  });

  it('refuses a package.json that is not a JSON object, naming it', async () => {
    await writeFile(join(dir, 'package.json'), '{ "name": ');
    await expect(initProject({ dir })).rejects.toThrow(`${join(dir, 'package.json')} is not a JSON object`);
  });
});
