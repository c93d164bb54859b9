/**
 * scenarios/xmpp-smoke.ts on two real XMPP servers, Prosody and ejabberd from Debian's packages,
 * each started by scripts/xmpp/start.sh (which installs the package when missing) and stopped
 * by PID with scripts/xmpp/stop.sh. Through the embedded proxy:
 *   - the clean run passes; the checks XMPP cannot support say not-checked, naming the capability;
 *     reads go out as chat markers, relayed to the peer and carbon-copied to the reader's devices;
 *   - a careful client under kills right after a send, a latency spike, a kill storm and a short
 *     outage loses nothing and stores nothing twice (it resumes its streams);
 *   - a careful client without resumption looks its unacknowledged messages up in the archive;
 *   - a naive client (reconnect and resend) makes the server store a message twice, because
 *     neither server deduplicates by origin-id: duplicates fails, and the witness shows the send,
 *     the kill, the resend and the second copy under a new stanza-id.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenario } from '../../src/cli/run-command.ts';
import { xmppDriver } from '../../src/drivers/xmpp/index.ts';
import smoke from '../../scenarios/xmpp-smoke.ts';

const scripts = resolve(dirname(fileURLToPath(import.meta.url)), '../../scripts/xmpp');

const faults = [
  { action: 'kill-after-send', at: '1s', network: 'wan', count: 4 },
  { action: 'toxic', at: '1500ms', duration: '1s', network: 'wan', toxic: { type: 'latency', attributes: { latency: 600, jitter: 100 } } },
  { action: 'kill', at: '2500ms', network: 'wan', share: 0.5 },
  { action: 'outage', at: '3s', network: 'wan', duration: '1500ms' },
];

/** The smoke scenario with images, files and multi-attachment messages (HTTP File Upload through the proxy). */
const withAttachments = {
  ...smoke,
  name: 'xmpp-attachments',
  traffic: {
    ...smoke.traffic,
    mix: { text: 0.5, image: 0.2, file: 0.2, 'multi-attachment': 0.1 },
    sizes: { image: { min: 2_000, max: 60_000 }, file: { min: 5_000, max: 200_000 } },
    multiAttachment: { images: { min: 1, max: 2 }, files: { min: 1, max: 1 } },
  },
};

// These runs judge XMPP servers' checks (loss, duplicates, integrity), not delays: on a shared
// 2-core machine the harness's own lag beside a fast local server is material (docs/honesty.md).
describe.each(['prosody', 'ejabberd'] as const)('xmpp-smoke on %s', (server) => {
  let state: string;
  let target: string;
  let out: string;
  beforeAll(async () => {
    state = await mkdtemp(join(tmpdir(), `chatstorm-${server}-`));
    out = await mkdtemp(join(tmpdir(), 'chatstorm-xmpp-out-'));
    // Up to 3 minutes: the first start may install the package.
    target = execFileSync('bash', [join(scripts, 'start.sh'), server, state], { encoding: 'utf8', timeout: 180_000 }).trim();
  }, 200_000);
  afterAll(async () => {
    if (state) execFileSync('bash', [join(scripts, 'stop.sh'), state], { timeout: 30_000 });
    await rm(state, { recursive: true, force: true });
    await rm(out, { recursive: true, force: true });
  }, 40_000);

  it('passes the clean run; ordering, sync and history say not-checked with the capability XMPP lacks', async () => {
    const driver = xmppDriver();
    const r = await runScenario({ scenario: smoke, driver, target, toxiproxy: 'embedded', out, allowHarnessLag: true });
    expect(r.summary.error).toBeNull();
    expect(r.summary.reasons).toEqual([]);
    expect(r.summary.verdict).toBe('pass');
    expect(r.exitCode).toBe(0);
    for (const name of ['loss', 'duplicates', 'isolation']) expect([name, r.summary.checks[name]?.status]).toEqual([name, 'pass']);
    expect(r.summary.checks.ordering).toMatchObject({ status: 'not-checked', note: expect.stringContaining("capabilities.ordering: 'none'") });
    expect(r.summary.checks.sync).toMatchObject({ status: 'not-checked', note: expect.stringContaining('capabilities.unreadCounts: false') });
    expect(r.summary.checks.history).toMatchObject({ status: 'not-checked', note: expect.stringContaining('capabilities.historyPages: false') });
    // Every device of every member got every message: 1:1 via carbons, the room via MUC.
    expect(r.summary.metrics.delivery?.count).toBeGreaterThan(100);
    const stats = driver.stats();
    expect(stats.fresh).toBeGreaterThan(0);
    // Reads are chat markers (XEP-0333): the server relays `displayed` to the peer (or the room) and
    // carbon-copies it to the reader's other devices; it keeps no unread count (sync above).
    expect(stats.markersSent).toBeGreaterThan(0);
    expect(stats.markersReceived).toBeGreaterThan(0);
    expect(stats.markersSynced).toBeGreaterThan(0);
  }, 60_000);

  it('carries images and files by HTTP File Upload through the network: every copy arrives byte-identical (integrity judged)', async () => {
    const r = await runScenario({ scenario: withAttachments, driver: xmppDriver(), target, toxiproxy: 'embedded', out, sla: ['delivery.p99 < 30s'], allowHarnessLag: true });
    expect(r.summary.error).toBeNull();
    expect(r.summary.reasons).toEqual([]);
    expect(r.summary.verdict).toBe('pass');
    for (const name of ['loss', 'duplicates', 'isolation', 'integrity']) expect([name, r.summary.checks[name]?.status]).toEqual([name, 'pass']);
    expect(r.summary.metrics['delivery[image]']?.count ?? 0).toBeGreaterThan(0);
    expect(r.summary.metrics['delivery[file]']?.count ?? 0).toBeGreaterThan(0);
  }, 60_000);

  it('a kill during an HTTP File Upload fires on XMPP: the message is uploaded and sent again after the reconnect, once, byte-identical', async () => {
    const driver = xmppDriver({ mode: 'careful' });
    const killUploads = [{ action: 'kill-during-upload' as const, at: '500ms', network: 'wan', count: 2 }];
    const r = await runScenario({ scenario: { ...withAttachments, faults: killUploads }, driver, target, toxiproxy: 'embedded', out, sla: ['delivery.p99 < 30s'], allowHarnessLag: true });
    expect(r.summary.error).toBeNull();
    expect(r.summary.reasons).toEqual([]);
    // The driver reports upload progress per 16 KiB written, so the armed kills happened mid-upload.
    expect(r.summary.faults.filter((f) => f.action === 'kill-during-upload').length).toBe(2);
    for (const name of ['loss', 'duplicates', 'integrity']) expect([name, r.summary.checks[name]?.status]).toEqual([name, 'pass']);
    expect(driver.stats().resent).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it('a careful client loses nothing and stores nothing twice under kills, latency, a kill storm and an outage', async () => {
    const driver = xmppDriver({ mode: 'careful' });
    const r = await runScenario({ scenario: { ...smoke, faults }, driver, target, toxiproxy: 'embedded', out, sla: ['delivery.p99 < 30s'], allowHarnessLag: true });
    expect(r.summary.error).toBeNull();
    expect(r.summary.reasons).toEqual([]);
    expect(r.summary.verdict).toBe('pass');
    expect(r.summary.checks.loss?.status).toBe('pass');
    expect(r.summary.checks.duplicates?.status).toBe('pass');
    expect(r.summary.faults.map((f) => f.action)).toEqual(expect.arrayContaining(['kill-after-send', 'toxic', 'kill', 'outage']));
    // The kills were survived by resuming the XEP-0198 session, not by resending.
    expect(driver.stats().resumed).toBeGreaterThan(0);
    expect(r.summary.connections?.failed).toBeGreaterThan(0); // the outage refused connections
  }, 60_000);

  it('a careful client whose sessions cannot be resumed finds its killed sends in the archive (MAM, by origin-id) and does not resend them', async () => {
    const driver = xmppDriver({ mode: 'careful', resume: false });
    const r = await runScenario({ scenario: { ...smoke, faults: [faults[0]!] }, driver, target, toxiproxy: 'embedded', out, sla: ['delivery.p99 < 30s'], allowHarnessLag: true });
    expect(r.summary.error).toBeNull();
    expect(r.summary.reasons).toEqual([]);
    expect(r.summary.checks.duplicates?.status).toBe('pass');
    expect(r.summary.checks.loss?.status).toBe('pass');
    const stats = driver.stats();
    expect(stats.resumed).toBe(0);
    // The kills come right after a write: the server had (nearly always all of) them.
    expect(stats.foundInArchive).toBeGreaterThan(0);
  }, 60_000);

  it('a naive client makes the server store a killed send twice: duplicates fails with send, kill, resend and the second stanza-id', async () => {
    const driver = xmppDriver({ mode: 'naive' });
    const r = await runScenario({ scenario: { ...smoke, faults: [faults[0]!] }, driver, target, toxiproxy: 'embedded', out, sla: ['delivery.p99 < 30s'], allowHarnessLag: true });
    expect(r.summary.error).toBeNull();
    expect(driver.stats().resent).toBeGreaterThan(0);
    const dup = r.summary.checks.duplicates!;
    expect(dup.status).toBe('fail');
    expect(dup.count).toBeGreaterThan(0);
    expect(r.summary.checks.loss?.status).toBe('pass');
    expect(r.summary.verdict).toBe('fail');
    expect(r.exitCode).toBe(1);
    const w = dup.witnesses[0]!;
    expect(w.summary).toMatch(/was shown twice on \S+, the second time as \S+/);
    // The trail's declared type lists message events; connection events (disconnect) come along at run time.
    const trail = w.trail as readonly { type: string; key?: string; attempt?: number; device?: string; id?: string }[];
    const mine = trail.filter((e) => e.key === undefined || e.key === w.key || e.type === 'disconnect');
    const steps = mine.map((e) => `${e.type}${e.type === 'send' ? `#${e.attempt}` : ''}`);
    expect(steps).toContain('send#1');
    expect(steps).toContain('disconnect');
    expect(steps).toContain('send#2');
    const ids = new Set(trail.filter((e) => e.type === 'deliver' && e.key === w.key && e.device === w.device).map((e) => e.id));
    expect(ids.size).toBe(2);
  }, 60_000);
});
