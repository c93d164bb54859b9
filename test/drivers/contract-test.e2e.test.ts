/**
 * The driver contract test kit end to end: the reference driver on the built-in server passes
 * every item; the built-in server without dedup fails "resend after a kill"; tiny chat (no
 * history pages) gets `not-checked` naming the capability for what it cannot support.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { describeContractResult, testDriverContract } from '../../src/drivers/contract-test.ts';
import { startTinyChat, tinyChatDriver } from './json-chat.ts';

describe('chatstorm driver-test', () => {
  let out: string;
  beforeEach(async () => {
    out = await mkdtemp(join(tmpdir(), 'chatstorm-driver-test-'));
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await rm(out, { recursive: true, force: true });
  });

  it('passes every item for the reference driver on the built-in server, exit 0, and says where the report is', async () => {
    let printed = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      printed += String(chunk);
      return true;
    });
    const code = await main(['driver-test', 'reference', '--out', out]);
    vi.restoreAllMocks();
    expect(printed).toMatch(/^driver-test: reference$/m);
    for (const title of ['connect', 'send/ack', 'fan-out to other devices', 'reconnect and catch-up', 'resend after a kill', 'history']) {
      expect(printed).toMatch(new RegExp(`^  pass +${title.replace('/', '\\/')}: `, 'm'));
    }
    expect(printed, printed).not.toMatch(/FAIL|not-checked/);
    expect(printed).toContain(`report: ${out}`);
    expect(code).toBe(0);
  }, 60_000);

  it('fails "resend after a kill" against a built-in server that does not deduplicate, naming the back end', async () => {
    const r = await testDriverContract({ driver: 'reference', out, defects: ['no-dedup'], defectRate: 1 });
    const resend = r.items.find((i) => i.id === 'resend')!;
    // What the fault does here (measured): kill-after-send fired on 2 sends, the runner resent
    // both, and the server had stored the first copy of at least one before the kill.
    expect(resend.why).toMatch(/[1-9]\d* send\(s\) killed right after the write, [1-9]\d* resent by the runner/);
    expect(r.summary.checks.duplicates?.status).toBe('fail');
    expect(resend.status).toBe('fail');
    expect(resend.why).toContain("these duplicates are the back end's");
    expect(r.items.filter((i) => i.id !== 'resend').map((i) => [i.id, i.status]), describeContractResult(r)).toEqual(
      ['connect', 'send-ack', 'fan-out', 'reconnect', 'history'].map((id) => [id, 'pass']),
    );
    expect(r.exitCode).toBe(1);
  }, 60_000);

  it('says not-checked, naming the capability, for what tiny chat does not declare, and judges the rest', async () => {
    const chat = await startTinyChat();
    try {
      const r = await testDriverContract({ driver: tinyChatDriver(), target: chat.url, out });
      expect(r.items.find((i) => i.id === 'history')).toEqual({
        id: 'history',
        title: 'history',
        status: 'not-checked',
        why: 'the driver declares capabilities.historyPages: false',
      });
      expect(r.items.filter((i) => i.id !== 'history').map((i) => [i.id, i.status]), describeContractResult(r)).toEqual(
        ['connect', 'send-ack', 'fan-out', 'reconnect', 'resend'].map((id) => [id, 'pass']),
      );
      expect(r.exitCode).toBe(0);
    } finally {
      await chat.close();
    }
  }, 60_000);
});
