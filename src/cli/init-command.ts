/**
 * `chatstorm init [dir]`: scaffold, in a user's repository, a scenario and a driver skeleton
 * (from `init-templates/`, which this repository type-checks against the current contract) and
 * the package.json script lines, as `k6 new` does. Existing files are never overwritten without
 * `force`; an existing package.json gets the missing scripts merged in, nothing else changed.
 *
 *   dir/
 *     chatstorm/scenario.ts   (.mts when dir's package.json is not "type": "module")
 *     chatstorm/driver.ts
 *     package.json            scripts.chatstorm, scripts["chatstorm:serve"]
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.ts';

const TEMPLATES = new URL('./init-templates/', import.meta.url);

export interface InitOptions {
  /** The project folder (default: the working directory). */
  dir?: string;
  /** Overwrite existing scaffold files and replace differing script lines. */
  force?: boolean;
}

export interface InitResult {
  /** Files written, relative to `dir`. */
  created: string[];
  /** Script lines added to (or replaced in) package.json. */
  scripts: string[];
  /** Script lines left as they were because the project already has a different one. */
  keptScripts: string[];
  /** The scaffolded scenario, relative to `dir`. */
  scenario: string;
}

/** Scaffold a scenario, a driver and package.json scripts into `dir`. */
export async function initProject(o: InitOptions = {}): Promise<InitResult> {
  const dir = resolve(o.dir ?? '.');
  const pkgPath = join(dir, 'package.json');
  let pkg: Record<string, unknown> | null = null;
  let pkgText = '';
  if (existsSync(pkgPath)) {
    pkgText = await readFile(pkgPath, 'utf8');
    try {
      const parsed: unknown = JSON.parse(pkgText);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      pkg = parsed as Record<string, unknown>;
    } catch (err) {
      throw new UsageError(`${pkgPath} is not a JSON object (${(err as Error).message}); fix it, or run chatstorm init in another folder`);
    }
  }
  // The files must load as ES modules: a plain .ts under a package.json without "type": "module"
  // is compiled as CommonJS, so there the scaffold uses .mts rather than change the project's type.
  const ext = pkg === null || pkg.type === 'module' ? '.ts' : '.mts';
  const scenario = `chatstorm/scenario${ext}`;
  const driver = `chatstorm/driver${ext}`;
  const files = [
    { rel: scenario, text: (await template('scenario.ts')).replace("driver: './driver.ts'", `driver: './driver${ext}'`) },
    { rel: driver, text: await template('driver.ts') },
  ];
  const existing = files.filter((f) => existsSync(join(dir, f.rel))).map((f) => f.rel);
  if (existing.length > 0 && !o.force) {
    throw new UsageError(`chatstorm init would overwrite ${existing.join(' and ')} in ${dir}; move them away or pass --force`);
  }

  const wanted: Record<string, string> = {
    chatstorm: `chatstorm run ${scenario} --target ws://127.0.0.1:7420`,
    'chatstorm:serve': 'chatstorm serve --port 7420',
  };
  const next: Record<string, unknown> = pkg ?? { name: safeName(dir), private: true, type: 'module' };
  const scripts = { ...((next.scripts as Record<string, string> | undefined) ?? {}) };
  const added: string[] = [];
  const kept: string[] = [];
  for (const [k, v] of Object.entries(wanted)) {
    if (scripts[k] === v) continue;
    if (scripts[k] !== undefined && !o.force) {
      kept.push(k);
      continue;
    }
    scripts[k] = v;
    added.push(k);
  }
  next.scripts = scripts;

  await mkdir(join(dir, 'chatstorm'), { recursive: true });
  for (const f of files) await writeFile(join(dir, f.rel), f.text);
  if (pkg === null || added.length > 0) {
    // Keep the project's own indentation; every other field stays as it was (JSON order kept).
    const indent = /^\{\s*\n([ \t]+)"/.exec(pkgText)?.[1] ?? '  ';
    await writeFile(pkgPath, JSON.stringify(next, null, indent) + '\n');
  }
  return { created: files.map((f) => f.rel), scripts: added, keptScripts: kept, scenario };
}

async function template(name: string): Promise<string> {
  return readFile(new URL(name, TEMPLATES), 'utf8');
}

/** A package name for a new package.json, from the folder's name. */
function safeName(dir: string): string {
  const base = dir.split(/[\\/]/).filter(Boolean).pop() ?? 'chat-tests';
  return base.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[._-]+/, '') || 'chat-tests';
}

/** What the CLI prints after scaffolding. */
export function describeInit(r: InitResult, dir: string): string {
  const lines = [`created ${r.created.join(', ')} in ${resolve(dir)}`];
  if (r.scripts.length > 0) lines.push(`package.json: added script${r.scripts.length > 1 ? 's' : ''} ${r.scripts.join(', ')}`);
  if (r.keptScripts.length > 0) lines.push(`package.json: kept your own script${r.keptScripts.length > 1 ? 's' : ''} ${r.keptScripts.join(', ')} (--force replaces them)`);
  lines.push(
    '',
    'next:',
    '  npm install --save-dev chatstorm         (if it is not installed yet)',
    '  npm run chatstorm:serve                   (in another terminal: the reference server the skeleton driver talks to)',
    '  npm run chatstorm                         (run the scenario and get a verdict)',
    `then make chatstorm/driver speak your protocol and point the --target of the "chatstorm" script at your server.`,
  );
  return lines.join('\n');
}
