import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkRun } from '../../src/cli/check-command.ts';
import { ExitCode, UsageError, exitCodeFor } from '../../src/errors.ts';

/** `chatstorm check <dir>`: the run folder is the user's input, so a broken one is exit 2 naming what is wrong. */
describe('chatstorm check on a broken run folder', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'chatstorm-check-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const event = (type: string, atMs: number) => JSON.stringify({ type, atMs }) + '\n';

  async function failure(): Promise<Error> {
    const err = await checkRun(dir).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(err, 'checkRun should have refused the folder').not.toBeNull();
    return err!;
  }

  it('refuses a folder without history.jsonl', async () => {
    const err = await failure();
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toContain('has no history.jsonl');
  });

  it('refuses a history.jsonl that is a folder, as bad input rather than an infrastructure failure', async () => {
    mkdirSync(join(dir, 'history.jsonl'));
    const err = await failure();
    expect(exitCodeFor(err)).toBe(ExitCode.usage);
    expect(err.message).toContain('is a folder, not a history file');
  });

  it('names the line of a history.jsonl broken in the middle', async () => {
    writeFileSync(join(dir, 'history.jsonl'), event('run-start', 0) + '{"type":\n' + event('run-end', 5));
    const err = await failure();
    expect(exitCodeFor(err)).toBe(ExitCode.usage);
    expect(err.message).toContain('history.jsonl:2:');
  });

  it('names a summary.json that is not JSON, or not an object', async () => {
    writeFileSync(join(dir, 'history.jsonl'), event('run-start', 0));
    for (const text of ['{"runId": "r1",', '[1, 2]']) {
      writeFileSync(join(dir, 'summary.json'), text);
      const err = await failure();
      expect(exitCodeFor(err)).toBe(ExitCode.usage);
      expect(err.message).toContain(join(dir, 'summary.json'));
      expect(err.message).toContain('is not the JSON object');
    }
  });

  it('names the "sla" field of a summary.json or plan.json that holds the wrong thing', async () => {
    writeFileSync(join(dir, 'history.jsonl'), event('run-start', 0));
    writeFileSync(join(dir, 'summary.json'), JSON.stringify({ sla: 'delivery.p99 < 1s' }));
    let err = await failure();
    expect(exitCodeFor(err)).toBe(ExitCode.usage);
    expect(err.message).toContain(`${join(dir, 'summary.json')}: "sla"`);

    rmSync(join(dir, 'summary.json'));
    writeFileSync(join(dir, 'plan.json'), JSON.stringify({ sla: [42] }));
    err = await failure();
    expect(exitCodeFor(err)).toBe(ExitCode.usage);
    expect(err.message).toContain(`${join(dir, 'plan.json')}: "sla"`);
  });
});
