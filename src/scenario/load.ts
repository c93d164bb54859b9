import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { UsageError, InvalidScenarioError } from '../errors.ts';
import { validateScenario } from './validate.ts';
import type { Scenario } from './schema.ts';

/**
 * Load a scenario file (TypeScript or JavaScript, `export default defineScenario({...})`) and
 * validate it. TypeScript loads through tsx, which the CLI registers at start-up.
 */
export async function loadScenario(file: string): Promise<{ scenario: Scenario; path: string }> {
  const path = resolve(file);
  if (!existsSync(path)) throw new UsageError(`scenario file ${file} does not exist (looked at ${path})`);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new InvalidScenarioError([{ path: '', message: `could not load the file: ${msg}${loadHint(err, path)}` }], file);
  }
  const input = mod.default ?? mod.scenario;
  if (input === undefined) {
    throw new InvalidScenarioError(
      [{ path: '', message: 'expected `export default defineScenario({...})` (no default export found)' }],
      file,
    );
  }
  return { scenario: validateScenario(input, file), path };
}

/**
 * What to do about a load failure, when the cause is known: a `.ts` or `.js` file outside any
 * package.json saying `"type": "module"` is compiled as CommonJS, and its `import` of chatstorm
 * (an ES module) then fails with Node's require(esm) error, which names neither cause nor fix.
 */
function loadHint(err: unknown, path: string): string {
  const code = (err as { code?: unknown } | null)?.code;
  const msg = err instanceof Error ? err.message : '';
  const requireEsm = code === 'ERR_REQUIRE_ESM' || code === 'ERR_REQUIRE_CYCLE_MODULE' || code === 'ERR_REQUIRE_ASYNC_MODULE' || /require\(\) (of )?ES Module/i.test(msg);
  if (!requireEsm || /\.m[jt]s$/.test(path)) return '';
  return (
    ' — the scenario was loaded as CommonJS because no package.json with "type": "module" covers it.' +
    ' Rename it to .mts (or .mjs), or add "type": "module" to the package.json of its project.'
  );
}
