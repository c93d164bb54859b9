/**
 * The system packages the suite needs: scripts/test-deps.sh (run by .ci/run beside `npm ci`)
 * installs every package a test would otherwise install on first use, and scripts/apt-install.sh
 * installs only what is missing, fetches the package lists only when an install from the current
 * ones fails, and never lets a package start its default instance. apt-get is a stand-in on PATH
 * that logs its calls; dpkg-query is the machine's own unless a test says otherwise.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFile(join(root, path), 'utf8');

/** The package names after `marker` on each line that has it (flags dropped). */
function packagesAfter(text: string, marker: RegExp): string[] {
  return text.split('\n').flatMap((line) => {
    const m = marker.exec(line);
    return m ? line.slice(m.index + m[0].length).trim().split(/\s+/).filter((w) => /^[a-z0-9][a-z0-9.+-]*$/.test(w)) : [];
  });
}

describe('scripts/test-deps.sh', () => {
  it('installs every package a test or script would otherwise install on first use', async () => {
    const deps = packagesAfter(await read('scripts/test-deps.sh'), /apt-install\.sh"( --no-install-recommends)?/);
    const xmpp = packagesAfter(await read('scripts/xmpp/start.sh'), /^\s+install_pkg /);
    const chromium = [...(await read('test/report/chromium.ts')).matchAll(/apt-install\.sh', import\.meta\.url\)\), '([a-z0-9-]+)'/g)].map((m) => m[1]!);
    expect(xmpp).toEqual(['prosody', 'ejabberd', 'erlang-p1-sqlite3']);
    expect(chromium).toEqual(['chromium']);
    for (const p of [...xmpp, ...chromium, 'docker-compose']) expect(deps, `scripts/test-deps.sh does not install ${p}`).toContain(p);
  });

  it('runs beside npm ci in .ci/run, which waits for it before the tests', async () => {
    const lines = (await read('.ci/run')).split('\n');
    const deps = lines.findIndex((l) => /^bash scripts\/test-deps\.sh &$/.test(l));
    const ci = lines.findIndex((l) => l.startsWith('npm ci '));
    const wait = lines.findIndex((l) => l.startsWith('wait "$deps"'));
    const test = lines.findIndex((l) => l === 'npm test');
    expect(deps).toBeGreaterThanOrEqual(0);
    expect([deps < ci, ci < wait, wait < test]).toEqual([true, true, true]);
  });
});

// Root only, as the script refuses to install otherwise; its policy-rc.d goes to a scratch path.
describe.skipIf(process.getuid?.() !== 0)('scripts/apt-install.sh (as root)', () => {
  let bin = '';
  let policy = '';

  beforeAll(async () => {
    bin = await mkdtemp(join(tmpdir(), 'chatstorm-apt-'));
    policy = join(bin, 'policy-rc.d');
  });
  afterAll(async () => {
    await rm(bin, { recursive: true, force: true });
  });

  /** apt-get stand-in: logs "<args> policy=<yes|no>"; `install` fails until `update` ran when `listsEmpty`, always when `broken`. */
  async function run(packages: string[], mode: 'listsEmpty' | 'broken' | 'fine') {
    const log = join(bin, 'calls.log');
    await rm(log, { force: true });
    await rm(join(bin, 'updated'), { force: true });
    await writeFile(
      join(bin, 'apt-get'),
      `#!/bin/sh
p=no; [ -x ${policy} ] && p=yes
echo "$* policy=$p" >> ${log}
case "$1" in
  update) touch ${join(bin, 'updated')}; exit 0 ;;
  install) [ "${mode}" = broken ] && exit 100; [ "${mode}" = listsEmpty ] && [ ! -e ${join(bin, 'updated')} ] && exit 100; exit 0 ;;
esac
exit 1
`,
    );
    await chmod(join(bin, 'apt-get'), 0o755);
    const r = spawnSync('bash', [join(root, 'scripts/apt-install.sh'), ...packages], { encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, CHATSTORM_POLICY_RC_D: policy } });
    const calls = existsSync(log) ? (await readFile(log, 'utf8')).trim().split('\n') : [];
    return { status: r.status, stderr: r.stderr, calls };
  }

  it('does nothing when every package is installed', async () => {
    const r = await run(['bash', 'coreutils'], 'broken');
    expect(r).toMatchObject({ status: 0, calls: [] });
  });

  it('on empty package lists: install fails, update, install again; only the missing package; no default instance started', async () => {
    const r = await run(['bash', 'chatstorm-absent-pkg'], 'listsEmpty');
    expect(r.status, r.stderr).toBe(0);
    expect(r.calls).toEqual([`install -y -q chatstorm-absent-pkg policy=yes`, `update -q policy=yes`, `install -y -q chatstorm-absent-pkg policy=yes`]);
    expect(existsSync(policy), 'the policy-rc.d it added is removed').toBe(false);
  });

  it('leaves a policy-rc.d the machine already has', async () => {
    await writeFile(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
    try {
      const r = await run(['chatstorm-absent-pkg'], 'fine');
      expect(r).toMatchObject({ status: 0, calls: ['install -y -q chatstorm-absent-pkg policy=yes'] });
      expect(existsSync(policy)).toBe(true);
    } finally {
      await rm(policy, { force: true });
    }
  });

  it('installs a package that was removed but whose config files remain (known to dpkg, no program)', async () => {
    // dpkg-query stand-in: bash reads as removed with its config files kept; the rest is dpkg's.
    const real = spawnSync('sh', ['-c', 'command -v dpkg-query'], { encoding: 'utf8' }).stdout.trim();
    await writeFile(join(bin, 'dpkg-query'), `#!/bin/sh\nfor a; do [ "$a" = bash ] && { printf 'deinstall ok config-files'; exit 0; }; done\nexec ${real} "$@"\n`, { mode: 0o755 });
    try {
      const r = await run(['bash', 'coreutils'], 'fine');
      expect(r).toMatchObject({ status: 0, calls: ['install -y -q bash policy=yes'] });
    } finally {
      await rm(join(bin, 'dpkg-query'), { force: true });
    }
  });

  it('passes --no-install-recommends on', async () => {
    const r = await run(['--no-install-recommends', 'chatstorm-absent-pkg'], 'fine');
    expect(r).toMatchObject({ status: 0, calls: ['install -y -q --no-install-recommends chatstorm-absent-pkg policy=yes'] });
  });

  it('a failed install exits 3 naming the packages, and leaves no policy-rc.d it added', async () => {
    const r = await run(['chatstorm-absent-pkg'], 'broken');
    expect(r.status).toBe(3);
    expect(r.stderr).toContain('apt-get install chatstorm-absent-pkg failed');
    expect(r.calls.map((c) => c.split(' ')[0])).toEqual(['install', 'update', 'install']);
    expect(existsSync(policy)).toBe(false);
  });
});
