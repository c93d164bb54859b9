/**
 * bin/plain-names.js: every chatstorm process loads TypeScript through tsx, whose esbuild
 * `keepNames` wraps each function creation in a defineProperty of `name` (a dictionary of
 * properties per closure). The hook makes that helper an identity. Checked on the hook alone and
 * in real processes, with and without it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain-JS loader hook without types
import { KEEP_NAMES_HELPER, load, PLAIN_HELPER, rewrites } from '../../bin/plain-names.js';

type Loaded = { format: string; source: string | Uint8Array | null };
const root = fileURLToPath(new URL('../../', import.meta.url));
const compiled = `var __defProp=Object.defineProperty;${KEEP_NAMES_HELPER as string}const f=__name(()=>1,"f");`;
const loadWith = (url: string, source: Loaded['source']) => (load as (u: string, c: object, n: () => Promise<Loaded>) => Promise<Loaded>)(url, {}, async () => ({ format: 'module', source }));

describe('the plain-names load hook', () => {
  it('rewrites the keepNames helper of a compiled file, and nothing else of it', async () => {
    const r = await loadWith('file:///p/src/run/device.ts', compiled);
    expect(r.source).toBe(`var __defProp=Object.defineProperty;${PLAIN_HELPER as string}const f=__name(()=>1,"f");`);
    expect(r.format).toBe('module');
  });

  it("rewrites chatstorm's own files also when it is installed under a project's node_modules, and the user's; never another package's", () => {
    const is = rewrites as (url: string, root?: string) => boolean;
    const root = 'file:///shop/node_modules/chatstorm/';
    expect(is(`${root}src/run/device.ts`, root)).toBe(true);
    expect(is('file:///shop/load/scenario.ts', root)).toBe(true);
    expect(is(`${root}node_modules/ws/lib/websocket.js`, root)).toBe(false);
    expect(is('file:///shop/node_modules/other/index.js', root)).toBe(false);
    expect(is('node:fs', root)).toBe(false);
  });

  it('reads a source given as bytes', async () => {
    const r = await loadWith('file:///p/scenario.ts', new TextEncoder().encode(compiled));
    expect(String(r.source)).toContain(PLAIN_HELPER as string);
  });

  it('leaves alone node_modules, non-file URLs, sources without the exact helper, and no source', async () => {
    for (const [url, source] of [
      ['file:///p/node_modules/x/index.js', compiled],
      ['node:fs', compiled],
      ['file:///p/a.ts', 'var __name=(t,v)=>t;'],
      ['file:///p/b.json', null],
    ] as const) {
      expect((await loadWith(url, source)).source).toBe(source);
    }
  });
});

describe('in a process started as chatstorm starts its own (bin/register.js)', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'chatstorm-names-'));
    // An ES module, as chatstorm's own files are (an entry point Node takes for CommonJS skips the ESM hooks).
    await writeFile(join(dir, 'package.json'), '{ "type": "module" }');
    // %HasFastProperties is V8's own answer; a closure whose `name` was redefined is in dictionary mode.
    await writeFile(
      join(dir, 'probe.ts'),
      `const make = (i: number) => { const inner = () => i; return inner; };
const f = make(1);
class Named { static made = 1; }
const fast = new Function('f', 'return %HasFastProperties(f)')(f) as boolean;
console.log(JSON.stringify({ fast, name: f.name, cls: Named.name }));
`,
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const probe = (loader: string) => {
    const r = spawnSync(process.execPath, ['--allow-natives-syntax', '--import', loader, join(dir, 'probe.ts')], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as { fast: boolean; name: string; cls: string };
  };

  it('closures keep fast properties; a closure esbuild wrapped is anonymous (its stack frames keep file and line), classes keep their names', () => {
    expect(probe(join(root, 'bin/register.js'))).toEqual({ fast: true, name: '', cls: 'Named' });
  });

  it('with tsx alone they do not (if this fails, tsx stopped emitting keepNames and the hook can go)', () => {
    expect(probe('tsx')).toEqual({ fast: false, name: 'inner', cls: 'Named' });
  });
});
