/**
 * A full disk under the run folder, without root or a tmpfs: the run's files are made symbolic
 * links to /dev/full, where every write fails with ENOSPC (Linux). The run still ends, judges
 * what it saw and says that the evidence could not be kept: exit 3, never a pass.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenario } from '../../src/cli/run-command.ts';
import { HarnessError } from '../../src/errors.ts';

describe.runIf(existsSync('/dev/full'))('a run on a full disk', () => {
  let out: string;
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'chatstorm-full-'));
  });
  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it('whose history file cannot be written ends as an infrastructure error naming ENOSPC, judged live', async () => {
    await mkdir(join(out, 'hist'), { recursive: true });
    await symlink('/dev/full', join(out, 'hist', 'history.jsonl'));
    const r = await runScenario({ scenario: 'test/fixtures/small.ts', out, runId: 'hist', durationMs: 1000, judge: 'live' });
    expect(r.exitCode).toBe(3);
    expect(r.summary.verdict).toBe('error');
    expect(r.summary.error).toMatch(/^could not write the history file: ENOSPC/);
    // The live judge saw every event: the checks themselves still ran.
    expect(r.summary.checks.loss?.status).toBe('pass');
  }, 120_000);

  it('whose history file cannot be written is not judged after the run, and says so', async () => {
    await mkdir(join(out, 'hist-after'), { recursive: true });
    await symlink('/dev/full', join(out, 'hist-after', 'history.jsonl'));
    const r = await runScenario({ scenario: 'test/fixtures/small.ts', out, runId: 'hist-after', durationMs: 1000 });
    expect(r.exitCode).toBe(3);
    expect(r.summary.verdict).toBe('error');
    expect(r.summary.error).toMatch(/^could not write the history file: ENOSPC/);
    // Nothing to judge (the file is the evidence): no check claims a result.
    expect(r.summary.checks).toEqual({});
    expect(r.notes).toContain('the run was not judged: --judge after judges the history file, which could not be written (--judge live judges the events as they come)');
  }, 120_000);

  it('whose report files cannot be written still returns its verdict, as an error', async () => {
    await mkdir(join(out, 'rep'), { recursive: true });
    await symlink('/dev/full', join(out, 'rep', 'summary.json'));
    const r = await runScenario({ scenario: 'test/fixtures/small.ts', out, runId: 'rep', durationMs: 1000 });
    expect(r.exitCode).toBe(3);
    expect(r.summary.error).toMatch(/^could not write the reports to .*rep: ENOSPC/);
  }, 120_000);

  it('whose folder cannot be written fails before anything starts, naming the folder', async () => {
    await mkdir(join(out, 'plan'), { recursive: true });
    await symlink('/dev/full', join(out, 'plan', 'plan.json'));
    const err = await runScenario({ scenario: 'test/fixtures/small.ts', out, runId: 'plan' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HarnessError);
    expect((err as Error).message).toMatch(/^cannot write the run folder .*plan: ENOSPC.*; free some space or pass --out with a writable folder$/);
  });
});
