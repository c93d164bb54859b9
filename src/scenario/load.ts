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
    throw new InvalidScenarioError([{ path: '', message: `could not load the file: ${msg}` }], file);
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
