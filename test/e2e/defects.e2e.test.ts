/**
 * Proof in CI: each defect mode of the reference server, run through the whole harness, makes
 * the run fail on exactly the matching check. Every other check must pass, or be `not-checked`
 * for a stated reason (never counted as a pass), and the failing check must carry witnesses
 * whose trail shows the anomaly. Each scenario gives its defect opportunities to fire
 * (test/e2e/fixtures/defect-scenarios.ts), and each test asserts that it did fire.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckName, CheckResult, CheckStatus } from '../../src/check/index.ts';
import type { HistoryEvent, HistoryEventType } from '../../src/history/events.ts';
import type { ScenarioInput } from '../../src/scenario/index.ts';
import type { DefectName } from '../../src/server/index.ts';
import { killAfterSend, plain, slowTurns, tight } from './fixtures/defect-scenarios.ts';
import { runAgainst, statuses } from './run-against.ts';

/**
 * What the checks other than the failing one must say. Every scenario sends images, so
 * `integrity` is judged, and loads history pages, so `history` is judged: both must pass.
 */
const CLEAN: Record<CheckName, CheckStatus> = {
  loss: 'pass',
  duplicates: 'pass',
  ordering: 'pass',
  sync: 'pass',
  history: 'pass',
  isolation: 'pass',
  integrity: 'pass',
};

interface Case {
  defect: DefectName;
  check: CheckName;
  scenario: ScenarioInput;
  rate: number;
  /** Event types the first witness's trail must contain. */
  trail: HistoryEventType[];
  /** Further assertions on the failing check. */
  more?: (c: CheckResult) => void;
}

const CASES: Case[] = [
  { defect: 'drop-fanout', check: 'loss', scenario: plain('drop-fanout'), rate: 0.05, trail: ['send', 'ack', 'deliver', 'connected'] },
  {
    defect: 'no-dedup',
    check: 'duplicates',
    scenario: killAfterSend('no-dedup'),
    rate: 1,
    trail: ['send', 'fault', 'disconnect', 'connected'],
    more: (c) => {
      // The resend after the kill is what the server stored a second time; the trail shows a
      // copy (ack or delivery) under each of the two server ids.
      const w = c.witnesses[0]!;
      const sends = w.trail.filter((e): e is Extract<HistoryEvent, { type: 'send' }> => e.type === 'send');
      expect(sends.map((e) => e.attempt)).toEqual([1, 2]);
      const ids = new Set(w.trail.flatMap((e) => (e.type === 'ack' || e.type === 'deliver' ? [e.id] : [])));
      expect(ids.size).toBe(2);
      expect(w.summary).toMatch(/was stored twice: m\d+ \(seq \d+\) and m\d+ \(seq \d+\)/);
    },
  },
  {
    defect: 'reorder',
    check: 'ordering',
    scenario: tight('reorder'),
    rate: 0.2,
    // No `ack`: a witness is built when the swapped copy arrives, and on a customer's message
    // that copy reaches an agent (link without a toxic) before the ack crosses the customers'
    // 20 ms link back to the sender, so the ack is often later than the witness's last event.
    trail: ['send', 'deliver'],
    more: (c) => {
      // Swaps of one sender's messages, and swaps across senders (the live arrival-order rule).
      expect(c.metrics?.['receiverFifo']).toBeGreaterThan(0);
      expect(c.metrics?.['arrivalOrder']).toBeGreaterThan(0);
      // The trail shows the swap itself: at the receiving device, a higher seq delivered before
      // a lower one of the same conversation.
      for (const w of c.witnesses) {
        const seqs = w.trail.flatMap((e) => (e.type === 'deliver' && e.device === w.device && e.seq !== undefined ? [e.seq] : []));
        expect(seqs.length, w.summary).toBeGreaterThanOrEqual(2);
        expect(seqs.some((s, i) => seqs.slice(0, i).some((before) => before > s)), `${w.summary}: delivered seqs ${seqs.join(', ')}`).toBe(true);
      }
    },
  },
  {
    defect: 'stale-unread',
    check: 'sync',
    scenario: slowTurns('stale-unread'),
    rate: 0.5,
    trail: ['unread', 'read'],
    more: (c) => {
      // Stale for longer than the bound mid-run (then corrected by the next push), and still
      // wrong at the end after the last read.
      expect(c.metrics?.['staleStretches']).toBeGreaterThan(0);
      expect(c.metrics?.['wrongAtEnd']).toBeGreaterThan(0);
      expect(c.witnesses.some((w) => /for \d+ ms while connected \(bound 5000 ms\)/.test(w.summary))).toBe(true);
    },
  },
  {
    defect: 'history-gap',
    check: 'history',
    scenario: plain('history-gap'),
    rate: 0.3,
    trail: ['page'],
    more: (c) => {
      // A message the harness saw stored is missing from the middle of a page.
      expect(c.metrics?.['gap']).toBeGreaterThan(0);
      expect(c.metrics?.['missingSeqs']).toBeGreaterThan(0);
      expect(c.witnesses[0]!.summary).toMatch(/^page of dm\d+ on \S+ .*missing stored seq\(s\) \d+/);
      const page = c.witnesses[0]!.trail.find((e) => e.type === 'page') as { seqs: number[]; limit: number } | undefined;
      expect(page?.seqs.length).toBeGreaterThanOrEqual(2);
    },
  },
  {
    defect: 'leak',
    check: 'isolation',
    scenario: plain('leak'),
    rate: 0.2,
    trail: ['conv', 'deliver'],
    more: (c) => expect(c.witnesses[0]!.summary).toMatch(/received .* of dm\d+, whose members are/),
  },
  {
    // The runner's attachment probe: a stranger asks for an image of a conversation it is not
    // in; with the defect the server serves it.
    defect: 'leak-attachment',
    check: 'isolation',
    scenario: plain('leak-attachment'),
    rate: 1,
    trail: ['conv', 'fetch'],
    more: (c) => {
      expect(c.metrics?.['attachmentLeaks']).toBeGreaterThan(0);
      expect(c.metrics?.['attachmentLeaks']).toBe(c.count);
      expect(c.witnesses[0]!.summary).toMatch(/^\S+ \(account \S+\) was served attachment a[0-9a-f]+ of \S+#\d+ in dm\d+, whose members are/);
    },
  },
  {
    defect: 'corrupt-attachment',
    check: 'integrity',
    scenario: plain('corrupt-attachment'),
    rate: 0.3,
    trail: ['send', 'deliver'],
    more: (c) => {
      const w = c.witnesses[0]!;
      const sent = w.trail.find((e) => e.type === 'send') as { sha256?: string[] } | undefined;
      const got = w.trail.find((e) => e.type === 'deliver' && e.device === w.device) as { sha256?: string[] } | undefined;
      expect(sent?.sha256?.length).toBeGreaterThan(0);
      expect(got?.sha256).toBeDefined();
      expect(got?.sha256).not.toEqual(sent?.sha256);
    },
  },
];

describe('defect modes of the reference server, end to end', () => {
  let out: string;
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'chatstorm-defects-'));
  });
  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
  });

  for (const c of CASES) {
    it(`fails on ${c.check} and nothing else when the server runs with ${c.defect}`, async () => {
      const r = await runAgainst(c.scenario, join(out, c.defect), [c.defect], c.rate);
      expect(r.fired[c.defect] ?? 0, `${c.defect} never fired: the scenario gave it no opportunity`).toBeGreaterThan(0);

      expect(statuses(r.summary)).toEqual({ ...CLEAN, [c.check]: 'fail' });
      expect(r.summary.checks['history']!.metrics?.['pages']).toBeGreaterThan(0);
      // The attachment probe ran; unless a defect leaks (`leak` also lets the stranger it picked
      // fetch that message's attachments), the server refused every probe.
      const iso = r.summary.checks['isolation']!.metrics!;
      expect(iso['attachmentProbes']).toBeGreaterThan(0);
      if (c.check !== 'isolation') expect(iso['attachmentRefused']).toBe(iso['attachmentProbes']);
      expect(r.summary.verdict).toBe('fail');
      expect(r.exitCode).toBe(1);
      expect(r.summary.reasons).toEqual([expect.stringMatching(new RegExp(`^check ${c.check} failed: \\d+ anomal`))]);

      const failed = r.summary.checks[c.check]!;
      expect(failed.count).toBeGreaterThan(0);
      expect(failed.witnesses.length).toBeGreaterThan(0);
      for (const w of failed.witnesses) {
        expect(w.summary.length).toBeGreaterThan(0);
        expect(w.trail.length).toBeGreaterThan(0);
        const times = w.trail.map((e) => e.atMs);
        expect(times).toEqual([...times].sort((a, b) => a - b));
      }
      const types = new Set(failed.witnesses[0]!.trail.map((e) => e.type));
      for (const t of c.trail) expect([...types], `witness trail lacks a ${t} event`).toContain(t);
      c.more?.(failed);
    }, 60_000);
  }
});
