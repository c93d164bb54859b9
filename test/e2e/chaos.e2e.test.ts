/**
 * Proof in CI, the other half: chaos against the correct reference server raises no false
 * alarm. Latency with jitter on both links, a slicer, kills right after sends, reset_peer, a
 * bandwidth collapse, an outage and a reconnect storm (test/e2e/fixtures/chaos.ts) must leave
 * every check at pass (history pages included, loaded periodically and after reconnects) with
 * zero anomalies.
 * The test also proves the chaos happened: every fault started and ended, devices lost their
 * connections and resent unacknowledged messages.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../../src/history/events.ts';
import chaos from './fixtures/chaos.ts';
import { runAgainst, statuses, type DefectRun } from './run-against.ts';

describe('chaos against the correct reference server', () => {
  let out: string;
  let r: DefectRun;
  let history: HistoryEvent[];
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'chatstorm-chaos-'));
    r = await runAgainst(chaos, out);
    const text = await readFile(join(r.dir, 'history.jsonl'), 'utf8');
    history = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as HistoryEvent);
  }, 60_000);
  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it('passes with zero anomalies', () => {
    expect(r.summary.error).toBeNull();
    expect(r.summary.endReason).toBe('complete');
    expect(statuses(r.summary)).toEqual({
      loss: 'pass',
      duplicates: 'pass',
      ordering: 'pass',
      sync: 'pass',
      history: 'pass',
      isolation: 'pass',
      integrity: 'pass',
    });
    for (const c of Object.values(r.summary.checks)) {
      expect([c.name, c.count, c.witnesses]).toEqual([c.name, 0, []]);
    }
    expect(r.summary.verdict).toBe('pass');
    expect(r.summary.reasons).toEqual([]);
    expect(r.exitCode).toBe(0);
  });

  it('played every fault of the timeline, start to end', () => {
    const faults = r.summary.faults;
    const actions = new Set(faults.map((f) => f.action));
    expect([...actions].sort()).toEqual(['kill', 'kill-after-send', 'outage', 'ramp', 'toxic']);
    expect(faults.filter((f) => f.action === 'kill-after-send')).toHaveLength(3);
    const toxics = faults.filter((f) => f.action === 'toxic').map((f) => f.description);
    expect(toxics).toEqual([expect.stringMatching(/^slicer /), expect.stringMatching(/^reset_peer /)]);
    for (const f of faults) expect([f.fault, f.endMs]).toEqual([f.fault, expect.any(Number)]);
  });

  it('made devices lose connections, resend and reconnect, so the checks had something to judge', () => {
    const lost = history.filter((e) => e.type === 'disconnect' && e.reason !== 'end of run');
    const unplanned = lost.filter((e) => e.type === 'disconnect' && !e.intentional);
    const resends = history.filter((e) => e.type === 'send' && e.attempt > 1);
    expect(lost.length).toBeGreaterThanOrEqual(3);
    // The outage and reset_peer cut connections the harness did not close itself.
    expect(unplanned.length).toBeGreaterThan(0);
    expect(resends.length).toBeGreaterThan(0);
    // Every device that lost its connection came back.
    const lostDevices = new Set(lost.map((e) => (e.type === 'disconnect' ? e.device : '')));
    expect(r.summary.metrics['reconnect']?.count).toBeGreaterThanOrEqual(lostDevices.size);
    expect(r.summary.metrics['delivery@fault']?.count).toBeGreaterThan(0);
    expect(r.summary.checks['integrity']!.metrics?.['verified']).toBeGreaterThan(0);
    expect(r.summary.checks['sync']!.metrics?.['unreadEvents']).toBeGreaterThan(0);
  });

  it('judged the unread counts of reconnected devices from their welcome counts, none left unknown', () => {
    const welcome = history.filter((e) => e.type === 'unread' && e.source === 'welcome');
    const reconnects = history.filter((e) => e.type === 'connect' && e.atMs > 0 && history.some((d) => d.type === 'disconnect' && d.device === e.device && d.atMs < e.atMs));
    expect(reconnects.length).toBeGreaterThan(0);
    for (const c of reconnects) {
      if (c.type !== 'connect') continue;
      expect(welcome.some((w) => w.type === 'unread' && w.device === c.device && w.atMs > c.atMs), `${c.device} reported no welcome counts`).toBe(true);
    }
    expect(history.some((e) => e.type === 'unread' && e.source === undefined && e.readSeq !== undefined)).toBe(true);
    expect(r.summary.checks['sync']!.metrics?.['unknownAtEnd']).toBe(0);
  });

  it('loaded history pages periodically and after reconnects, walking back page by page', () => {
    const pages = history.filter((e): e is Extract<HistoryEvent, { type: 'page' }> => e.type === 'page');
    expect(r.summary.checks['history']!.metrics?.['pages']).toBe(pages.length);
    // Older pages were asked for `before` the oldest seq of the page before them.
    expect(pages.some((p) => p.before !== undefined && p.seqs.length > 0)).toBe(true);
    // A device that reconnected loaded pages after it was live again.
    const reconnectedAt = new Map<string, number>();
    for (const e of history) if (e.type === 'connected' && e.tookMs > 0 && e.atMs > 0) reconnectedAt.set(e.device, e.atMs);
    expect(pages.some((p) => (reconnectedAt.get(p.device) ?? Infinity) < p.atMs)).toBe(true);
    expect(r.summary.metrics['history.page']?.count).toBe(pages.length);
  });
});
