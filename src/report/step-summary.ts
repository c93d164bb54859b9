/**
 * GitHub Actions job summaries: when `$GITHUB_STEP_SUMMARY` names a file (the runner sets it for
 * every step), chatstorm appends its summary.md there itself, so the verdict, the checks and the
 * SLAs show on the job's page without a workflow step of their own. Appended, never overwritten:
 * earlier steps' summaries in the same file stay.
 */
import { appendFile } from 'node:fs/promises';

/** Environment variable GitHub Actions sets to the step's summary file. */
export const STEP_SUMMARY_ENV = 'GITHUB_STEP_SUMMARY';

/**
 * Append `markdown` to the file named by `$GITHUB_STEP_SUMMARY`. Resolves with the path written,
 * or null when the variable is unset or empty (not on GitHub Actions). Rejects when the file
 * cannot be written; callers report that as a note, not as a failed run.
 */
export async function appendStepSummary(markdown: string, env: NodeJS.ProcessEnv = process.env): Promise<string | null> {
  const path = env[STEP_SUMMARY_ENV];
  if (!path) return null;
  await appendFile(path, (markdown.endsWith('\n') ? markdown : markdown + '\n') + '\n');
  return path;
}

/** Append to the step summary; a note (to print) when that failed, else null. */
export async function publishStepSummary(markdown: string, env: NodeJS.ProcessEnv = process.env): Promise<string | null> {
  try {
    await appendStepSummary(markdown, env);
    return null;
  } catch (err) {
    return `could not append summary.md to $${STEP_SUMMARY_ENV} (${env[STEP_SUMMARY_ENV]}): ${err instanceof Error ? err.message : String(err)}`;
  }
}
