import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { expectValidSummary } from '../report/summary-schema.ts';

// runPlan turns every run failure into its outcome; this stands in for a harness bug that escapes.
vi.mock('../../src/run/runner.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/run/runner.ts')>();
  return {
    ...real,
    runPlan: async () => {
      throw new Error('teardown exploded');
    },
  };
});

const { runScenario } = await import('../../src/cli/run-command.ts');

describe('runScenario', () => {
  let out: string;
  beforeEach(async () => {
    out = await mkdtemp(join(tmpdir(), 'chatstorm-run-command-'));
  });
  afterEach(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it('still writes a report, with verdict error and exit 3, when the runner itself throws', async () => {
    const r = await runScenario({ scenario: 'test/fixtures/small.ts', out });
    expect(r.exitCode).toBe(3);
    expect(r.summary.verdict).toBe('error');
    expect(r.summary.error).toBe('harness failure: teardown exploded');
    const [dir] = await readdir(out);
    const files = await readdir(join(out, dir as string));
    expect(files).toEqual(expect.arrayContaining(['summary.json', 'junit.xml', 'summary.md', 'report.html']));
    expectValidSummary(JSON.parse(await readFile(join(out, dir as string, 'summary.json'), 'utf8')));
    const junit = await readFile(join(out, dir as string, 'junit.xml'), 'utf8');
    expect(junit).toContain('harness failure: teardown exploded');
  });
});
