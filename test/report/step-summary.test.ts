import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendStepSummary, publishStepSummary } from '../../src/report/step-summary.ts';

describe('GitHub step summary', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'chatstorm-step-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('appends the Markdown after what earlier steps wrote', async () => {
    const f = join(dir, 'summary');
    await writeFile(f, '# build\n');
    expect(await appendStepSummary('## chatstorm: pass', { GITHUB_STEP_SUMMARY: f })).toBe(f);
    expect(await readFile(f, 'utf8')).toBe('# build\n## chatstorm: pass\n\n');
  });

  it('does nothing off GitHub Actions', async () => {
    expect(await appendStepSummary('x', {})).toBeNull();
    expect(await appendStepSummary('x', { GITHUB_STEP_SUMMARY: '' })).toBeNull();
  });

  it('turns an unwritable file into a note naming the variable and the path, not a failure', async () => {
    const bad = join(dir, 'no', 'such', 'dir', 'summary');
    const note = await publishStepSummary('x', { GITHUB_STEP_SUMMARY: bad });
    expect(note).toContain(`could not append summary.md to $GITHUB_STEP_SUMMARY (${bad}): ENOENT`);
  });
});
