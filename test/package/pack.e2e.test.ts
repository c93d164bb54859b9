/**
 * The package as a user gets it: `npm pack`, install the tarball into a project outside this
 * repository, write a scenario and a driver there that import 'chatstorm', type-check them against
 * the shipped declarations, and run `npx chatstorm run ... --driver ...` to a pass against
 * `chatstorm serve`; then `chatstorm init` there, and its scaffold runs as it is.
 *
 * Offline: the install must not reach the network. `npm install --offline` cannot resolve the
 * dependencies from the npm cache alone (it needs each package's registry document, which the
 * cache does not hold), so the test writes the project's package-lock.json from this repository's
 * lock (same versions and integrity hashes) and runs `npm ci --offline`, which takes every tarball
 * from the cache by its hash. `--ignore-scripts`, because better-sqlite3's install script downloads
 * a prebuilt binary; without it the server runs with `--store memory` (the SQLite store is the
 * only part of chatstorm that needs that binary, and it is loaded only when used).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runToEnd } from '../net/processes.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const NPM_ENV = { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false', TOXIPROXY_URL: '' };

/** Run a command to its end (bounded by `timeoutMs`, then SIGKILL). */
const run = (cmd: string, args: string[], cwd: string, timeoutMs: number) => runToEnd(cmd, args, { cwd, env: NPM_ENV, timeoutMs });

/** The project's lock: chatstorm from the tarball, its dependencies exactly as this repository locks them. */
async function lockFor(tarball: string): Promise<string> {
  const lock = JSON.parse(await readFile(join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, Record<string, unknown>> };
  const pkg = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as Record<string, unknown>;
  const integrity = 'sha512-' + createHash('sha512').update(await readFile(tarball)).digest('base64');
  const spec = `file:${tarball}`;
  const packages: Record<string, unknown> = {
    '': { name: 'user-project', devDependencies: { chatstorm: spec } },
    'node_modules/chatstorm': { version: pkg.version, resolved: spec, integrity, dev: true, dependencies: pkg.dependencies, bin: pkg.bin, engines: pkg.engines },
  };
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path !== '' && entry.dev !== true) packages[path] = { ...entry, dev: true };
  }
  return JSON.stringify({ name: 'user-project', lockfileVersion: 3, requires: true, packages }, null, 2);
}

const SCENARIO = `import { defineScenario } from 'chatstorm';

export default defineScenario({
  name: 'from-the-package',
  seed: 3,
  duration: '2s',
  grace: '5s',
  networks: { lan: { toxics: [{ type: 'latency', attributes: { latency: 20, jitter: 5 } }] } },
  population: {
    agents: { count: 2, devices: ['desktop', 'mobile'], network: 'lan' },
    customers: { count: 6, devices: ['mobile'], network: 'lan' },
  },
  traffic: { arrival: { model: 'constant', over: '1s' }, messagesPerCustomer: { min: 2, max: 3 }, thinkTime: { min: '100ms', max: '300ms' } },
  sla: ['loss == 0', 'duplicates == 0'],
});
`;

// The driver a user writes, here wrapping the built-in reference driver through the public API
// only: the point is the package surface, not a new protocol.
const DRIVER = `import { defineDriver, referenceDriver, encodeMarker, decodeMarker, type ProvisionRequest } from 'chatstorm';

const marker = decodeMarker(encodeMarker({ runId: 'r', key: 'd#1', intendedMs: 1 }));
if (marker?.key !== 'd#1') throw new Error('marker helpers do not round-trip');

export default defineDriver({
  ...referenceDriver,
  name: 'wrapped-reference',
  provision: (request: ProvisionRequest) => referenceDriver.provision(request),
  connect: (opts) => referenceDriver.connect(opts),
});
`;

describe('the packed package, installed in a project outside the repository', () => {
  let work: string;
  let project: string;
  const servers: ChildProcess[] = [];

  /** `npx chatstorm serve` from the installed package, in its own process group; resolves with its URL. */
  function serve(): Promise<string> {
    const server = spawn('npx', ['chatstorm', 'serve', '--store', 'memory', '--port', '0'], { cwd: project, env: NPM_ENV, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    servers.push(server);
    return new Promise<string>((resolve, reject) => {
      let out = '';
      server.stdout?.on('data', (d) => {
        out += d;
        const m = /listening on (ws:\/\/\S+)/.exec(out);
        if (m) resolve(m[1] as string);
      });
      server.once('exit', (code) => reject(new Error(`chatstorm serve exited with ${code}: ${out}`)));
    });
  }

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'chatstorm-pack-'));
    project = join(work, 'project');
  });
  afterAll(async () => {
    // Each server runs in its own process group (npx -> sh -> node): end all of it.
    for (const server of servers) {
      if (server.pid === undefined || server.exitCode !== null) continue;
      const exited = new Promise((r) => server.once('exit', r));
      process.kill(-server.pid, 'SIGTERM');
      await exited;
    }
    await rm(work, { recursive: true, force: true });
  });

  it('packs, installs offline, type-checks a user scenario and driver, and runs them to a pass', { timeout: 300_000 }, async () => {
    // 1. Pack (prepack builds the declarations).
    const packed = await run('npm', ['pack', '--json', '--pack-destination', work], REPO, 180_000);
    expect(packed.code, packed.stderr).toBe(0);
    const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as { filename: string; files: { path: string }[] }[];
    const shipped = (info?.files ?? []).map((f) => f.path);
    expect(shipped).toEqual(expect.arrayContaining(['package.json', 'README.md', 'bin/chatstorm.js', 'src/index.ts', 'dist/types/index.d.ts', 'scenarios/demo.ts', 'docs/drivers.md']));
    expect(shipped.filter((p) => /^(test|reports|bench|node_modules)\//.test(p))).toEqual([]);
    const tarball = join(work, info?.filename as string);

    // 2. Install into a project outside the repository, offline.
    await mkdir(join(project, 'chat'), { recursive: true });
    await writeFile(
      join(project, 'package.json'),
      JSON.stringify({ name: 'user-project', private: true, type: 'module', devDependencies: { chatstorm: `file:${tarball}` } }, null, 2) + '\n',
    );
    await writeFile(join(project, 'package-lock.json'), await lockFor(tarball));
    const installed = await run('npm', ['ci', '--offline', '--ignore-scripts'], project, 120_000);
    expect(installed.code, installed.stderr).toBe(0);

    // 3. The user's files, importing only 'chatstorm'; they type-check against the shipped
    // declarations, and a misspelt field is a type error (the types are real, not `any`).
    await writeFile(join(project, 'chat', 'scenario.ts'), SCENARIO);
    await writeFile(join(project, 'chat', 'driver.ts'), DRIVER);
    await writeFile(join(project, 'chat', 'typo.ts'), `import { defineScenario } from 'chatstorm';\nexport default defineScenario({ nmae: 'x' });\n`);
    await writeFile(
      join(project, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: [] }, include: ['chat'] }),
    );
    const tsc = await run(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], project, 120_000);
    const errors = tsc.stdout.split('\n').filter((l) => l.includes('error TS'));
    expect(errors.length, tsc.stdout).toBeGreaterThan(0);
    expect(errors.every((l) => l.startsWith('chat/typo.ts')), tsc.stdout).toBe(true);
    await rm(join(project, 'chat', 'typo.ts'));

    // 4. `chatstorm serve` from the installed package, then `npx chatstorm run ... --driver ...`.
    const target = await serve();
    const r = await run('npx', ['chatstorm', 'run', 'chat/scenario.ts', '--driver', './chat/driver.ts', '--target', target, '--out', 'reports', '--quiet', '--allow-harness-lag'], project, 120_000);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('verdict: PASS');
    const [runDir] = await readdir(join(project, 'reports'));
    const summary = JSON.parse(await readFile(join(project, 'reports', runDir as string, 'summary.json'), 'utf8')) as { verdict: string; target: string };
    expect(summary.verdict).toBe('pass');
    expect(summary.target).toBe(target);

    // A script of the user's, run with the loaders the command line uses (`chatstorm/register`):
    // TypeScript loads, 'chatstorm' resolves, and closures are not wrapped by keepNames.
    await writeFile(
      join(project, 'chat', 'script.ts'),
      // One closure of the user's file, one of chatstorm's own (under node_modules/chatstorm).
      `import { defineScenario, referenceDriver } from 'chatstorm';\nconst make = () => { const inner = () => 1; return inner; };\nconst fast = new Function('f', 'return %HasFastProperties(f)');\nconsole.log(JSON.stringify({ define: typeof defineScenario, fast: [fast(make()), fast(referenceDriver.deviceState)] }));\n`,
    );
    const script = await run(process.execPath, ['--allow-natives-syntax', '--import', 'chatstorm/register', 'chat/script.ts'], project, 60_000);
    expect(script.code, script.stderr).toBe(0);
    expect(JSON.parse(script.stdout)).toEqual({ define: 'function', fast: [true, true] });

    // 5. `chatstorm init` from the installed package: its scaffold (scenario + driver skeleton,
    // the skeleton wrapping the reference driver) runs as it is, shortened. On a server of its
    // own: the reference server deduplicates by client id, and two runs of one plan share them.
    const init = await run('npx', ['chatstorm', 'init'], project, 60_000);
    expect(init.code, init.stderr).toBe(0);
    const scripts = (JSON.parse(await readFile(join(project, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.chatstorm).toBe('chatstorm run chatstorm/scenario.ts --target ws://127.0.0.1:7420');
    const scaffold = await run('npx', ['chatstorm', 'run', 'chatstorm/scenario.ts', '--target', await serve(), '--duration', '3s', '--out', 'reports-init', '--quiet', '--allow-harness-lag'], project, 120_000);
    expect(scaffold.code, scaffold.stdout + scaffold.stderr).toBe(0);
  });
});
